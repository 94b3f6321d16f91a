// The recurrent kernels' plans: what each family needs to know to launch a
// shape, and the sizes that both the planner (host) and the kernels (device)
// compute. CUDA-free, so that kernel choice (rnn_kernel_choice.h) is decided
// and tested on the host; the .cu files include it for the same numbers.
#ifndef TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_PLANS_H_
#define TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_PLANS_H_

#include <cstddef>

#if defined(__CUDACC__)
#define TFTRT_MASKING_HOST_DEVICE __host__ __device__
#else
#define TFTRT_MASKING_HOST_DEVICE
#endif

namespace tftrt_masking {
namespace rnn_gpu {

// ---------------------------------------------------------------------------
// Tensor-core row-group kernel (masked_rnn_mma_row_group.cuh).
constexpr int kUnitsPerWarp = 4;  // 4 gates x 4 units = the 16 rows of an m16n8k16 tile

// How the row-group kernel sends h to its peers.
enum class RowGroupCopy { kAuto, kStAsync, kBulk };

struct MmaRowGroupPlan {
  int unit_warps = 0;  // warps in a cluster: a warp owns 4 units
  int k_tiles = 0;     // 8, 16 or 32: K = units padded to 16 * k_tiles
  // Launch variants (rows per cluster, warps per block) are picked at launch
  // from the device's cluster occupancy; these narrow them (debug knobs).
  bool four_warp_blocks = true;  // false: blocks of 8 warps only
  bool overlap_projection = true;  // may start during the projection's tail (one cluster)
  RowGroupCopy copy = RowGroupCopy::kAuto;
  // The variants' kernels: activations other than tanh/sigmoid, SimpleRNN,
  // GRU reset_after=False (masked_rnn_mma_row_group_variants.cu).
  bool variant_kernels = false;
};

// ---------------------------------------------------------------------------
// Tensor-core block kernel (masked_rnn_mma_block.cuh): one block per 8 batch
// rows holds the whole recurrent kernel (33-128 units) as mma.sync A
// fragments; no cluster, compute capability 8.0+.
constexpr int kMmaBlockTilesPerWarp = 2;  // m16 tiles (4 units x 4 gate rows) per warp
constexpr int kMmaBlockMaxWaves = 4;      // blocks <= 4 x SMs (they run in waves)

struct MmaBlockPlan {
  int k_tiles = 0;  // 4 (33-64 units) or 8 (65-128): K = units padded to 16 k_tiles
  int threads = 0;  // a warp per 8 units: 32 x 4 k_tiles / kMmaBlockTilesPerWarp
  int blocks = 0;   // one per 8 batch rows
  size_t shared_bytes = 0;
  bool overlap_projection = false;  // sm_90+, one block: starts during the projection's tail
};

TFTRT_MASKING_HOST_DEVICE constexpr int MmaBlockThreads(int k_tiles) {
  return 32 * 4 * k_tiles / kMmaBlockTilesPerWarp;
}
// Bytes of one h buffer: 8 rows x 4 k_tiles packets of 16 bytes ([hi x4][lo x4]).
TFTRT_MASKING_HOST_DEVICE constexpr size_t MmaBlockHBufferBytes(int k_tiles) {
  return static_cast<size_t>(8) * 64 * k_tiles;
}
// fp32: the weights' low parts as A fragments, 4 k_tiles m-tiles x k_tiles x 512 bytes.
TFTRT_MASKING_HOST_DEVICE constexpr size_t MmaBlockWeightLoBytes(int k_tiles) {
  return static_cast<size_t>(4) * k_tiles * k_tiles * 512;
}
// Shared memory: h double-buffered, r*h (GRU reset_after=false), fp32's W_lo,
// and 8 rows of the recurrent kernel (<= 4 gates x 16 k_tiles columns of
// element_bytes) staged on their way into the fragments.
TFTRT_MASKING_HOST_DEVICE constexpr size_t MmaBlockSharedBytes(int k_tiles, int element_bytes,
                                                               bool reset_before) {
  return (reset_before ? 3 : 2) * MmaBlockHBufferBytes(k_tiles) +
         (element_bytes == 4 ? MmaBlockWeightLoBytes(k_tiles) : 0) +
         static_cast<size_t>(8) * 64 * k_tiles * element_bytes;
}

// ---------------------------------------------------------------------------
// Row-block kernel (masked_rnn_row_block.cuh).
// Threads per block: up to 255 registers each, so a column's whole recurrent
// kernel (units <= 128) stays in registers; LSTM/GRU with units > 64 split the
// units over a 2-block cluster (Hopper), each block holding half the columns.
constexpr int kRowBlockMaxThreads = 256;
constexpr int kRowBlockMaxRows = 4;
// Steps of xproj and mask in flight: an L2 round trip (~0.3-0.5 us measured on
// H100/H200) is several small steps long, so loading one step ahead still
// stalled every step (0.6 us/step at H = 32).
constexpr int kRowBlockStages = 8;
constexpr int kWarpRowMaxWarps = 4;  // warp-row mode: rows (warps) per block

// Shared memory of the row-block kernel, in floats: h double-buffered
// [2][R][KR] (every block holds all of h), the xproj ring
// [kStages][R][threads] and the mask ring [kStages][R] (4-byte words holding
// the step's mask element).
TFTRT_MASKING_HOST_DEVICE inline size_t RowBlockSharedFloats(int threads, int register_k,
                                                             int rows) {
  return 2 * static_cast<size_t>(rows) * register_k +
         static_cast<size_t>(kRowBlockStages) * rows * (threads + 1);
}
// Per-warp shared memory of the warp-row mode, in floats: h [2][32].
TFTRT_MASKING_HOST_DEVICE inline size_t WarpRowSharedFloats(int /*gates*/) { return 64; }

struct RowBlockPlan {
  int threads = 0;          // lanes_per_unit * units_per_block rounded up to a warp
  int lanes_per_unit = 0;   // 4 (LSTM, GRU: one lane per gate), 1 (SimpleRNN), 0 (warp-row)
  int register_k = 0;       // 64 or 128: units padded; the column's weights in registers;
                            // 32: warp-row mode (units <= 32, one warp per row, lane = unit)
  int units_per_block = 0;  // units / cluster_size, rounded up
  int cluster_size = 0;     // 1, or 2 (Hopper) when 4 lanes x units > 256 threads
  int rows_per_block = 0;   // 1, 2 or 4 (warp-row mode: warps per block)
  int blocks = 0;
  size_t shared_bytes = 0;
  bool overlap_projection = false;  // sm_90+: starts during the input projection's tail
};

// ---------------------------------------------------------------------------
// Persistent kernel (masked_rnn_persistent.cuh).
constexpr int kPersistentThreads = 256;
constexpr int kPersistentWarps = kPersistentThreads / 32;
constexpr int kMaxBarrierCounters = 1024;  // batch slices of the global-barrier mode
constexpr int kMaxClusterBlocks = 8;       // portable cluster size (FFMA mode)
constexpr int kMaxMmaClusterBlocks = 16;   // non-portable, Hopper (mma mode)

// Kernel modes: h through L2 + global barrier (FFMA), thread-block cluster
// with h in DSMEM (FFMA, fp32 weights), cluster with 16-bit weights and h
// operands on the tensor cores (mma.sync m16n8k16, fp32 accumulation), and
// the tensor cores with h (16-bit) through L2 and the global barrier: the
// global modes need no cluster, so they are the portable family's (sm_75+).
constexpr int kModeGlobal = 0, kModeCluster = 1, kModeClusterMma = 2, kModeGlobalMma = 3;
TFTRT_MASKING_HOST_DEVICE constexpr bool IsMmaMode(int mode) {
  return mode == kModeClusterMma || mode == kModeGlobalMma;
}

// Offsets (bytes) of the shared-memory regions; host and device agree on them.
struct SharedLayout {
  size_t weights, partial, h_shared, h_own, c_own, y_own, rec_bias, total;
};

TFTRT_MASKING_HOST_DEVICE inline size_t Align16(size_t bytes) { return (bytes + 15) / 16 * 16; }

// h row pitch (elements) of the mma mode: +8 halves staggers the banks of the
// 8 rows one A fragment reads.
TFTRT_MASKING_HOST_DEVICE inline int MmaHPitch(int units) { return units + 8; }

TFTRT_MASKING_HOST_DEVICE inline SharedLayout MakeSharedLayout(int mode, int units, int gates,
                                                               int uper, int batch_per_block,
                                                               int row_tile, int row_groups,
                                                               int k_splits, int pitch) {
  const size_t columns = static_cast<size_t>(gates) * uper;
  const size_t padded_rows = static_cast<size_t>(row_groups) * row_tile;
  SharedLayout l;
  size_t at = 0;
  l.weights = at;
  at += Align16(IsMmaMode(mode) ? units * columns * 2 : units * static_cast<size_t>(pitch) * 4);
  l.partial = at;
  at += Align16(static_cast<size_t>(k_splits) * padded_rows * columns * 4);
  l.h_shared = at;
  if (mode == kModeCluster) at += Align16(2 * static_cast<size_t>(batch_per_block) * units * 4);
  if (mode == kModeClusterMma) at += Align16(2 * padded_rows * MmaHPitch(units) * 2);
  if (mode == kModeGlobalMma) at += Align16(2 * padded_rows * MmaHPitch(units) * 2);  // hi, lo
  l.h_own = at;
  at += Align16(static_cast<size_t>(batch_per_block) * uper * 4);
  l.c_own = at;
  at += Align16(static_cast<size_t>(batch_per_block) * uper * 4);
  l.y_own = at;
  at += Align16(static_cast<size_t>(batch_per_block) * uper * 4);
  l.rec_bias = at;
  at += Align16(columns * 4);
  l.total = at;
  return l;
}

struct PersistentPlan {
  int units_per_block = 0;
  int unit_slices = 0;    // blocks that share one batch slice (barrier group)
  int batch_per_block = 0;
  int batch_slices = 0;
  int rows_per_thread = 0;  // RB of the register tile (RB x 4 outputs); 16 for mma
  int k_splits = 0;         // threads that split the reduction over units
  int column_groups = 0;    // gate columns / 4
  int row_groups = 0;       // ceil(batch_per_block / RB)
  int weight_pitch = 0;     // floats per shared-memory weight row (padded)
  bool cluster = false;     // barrier group = thread-block cluster, h in DSMEM
  bool mma = false;         // fp16/bf16: 16-bit weights and h on the tensor cores
                            // (with cluster: kModeClusterMma, else kModeGlobalMma)
  size_t shared_bytes = 0;
  int blocks() const { return unit_slices * batch_slices; }
};

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_PLANS_H_
