// Device helpers shared by the masked recurrence kernels: element conversion,
// mask reads and the per-cell state update (one definition for the simple and
// the persistent path, so that both compute the same function).
#ifndef TFTRT_MASKING_KERNELS_RNN_RNN_DEVICE_CUH_
#define TFTRT_MASKING_KERNELS_RNN_RNN_DEVICE_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/cell_math.h"
#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {
namespace rnn_gpu {

// Conversions between the element type and the accumulation type.
template <typename Acc, typename T>
__device__ __forceinline__ Acc ToAcc(T v) { return static_cast<Acc>(v); }
template <>
__device__ __forceinline__ float ToAcc<float, __half>(__half v) { return __half2float(v); }
template <>
__device__ __forceinline__ float ToAcc<float, __nv_bfloat16>(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <typename T, typename Acc>
__device__ __forceinline__ T FromAcc(Acc v) { return static_cast<T>(v); }
template <>
__device__ __forceinline__ __half FromAcc<__half, float>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 FromAcc<__nv_bfloat16, float>(float v) {
  return __float2bfloat16_rn(v);
}

// Rounds v to T and back: what a stored output holds, so a carried output is a
// bit-exact copy of the stored one.
template <typename T, typename Acc>
__device__ __forceinline__ Acc RoundTo(Acc v) { return ToAcc<Acc>(FromAcc<T>(v)); }

// The tensor-core recurrences' MMA operand type (the row-group and block
// kernels): the tensors' own for fp16/bf16; fp32 runs on fp16 operands split
// in two, value = hi + lo (3 MMAs per k tile: W_hi h_hi + W_hi h_lo +
// W_lo h_hi; the dropped W_lo h_lo is ~2^-22 of the product).
template <typename T>
struct MmaOperand {
  using type = T;
};
template <>
struct MmaOperand<float> {
  using type = __half;
};

// fp32 weights are scaled by 2^e before the split into fp16 hi + lo, so that
// the warp's largest |w| lies in [2^14, 2^15) and W_lo stays clear of fp16's
// subnormals; the products are scaled back exactly. `largest`: this lane's
// largest |w|; returns e for the whole warp (0 for zero, inf or NaN weights:
// NaN results, unscaled).
__device__ __forceinline__ int WarpWeightScaleExponent(float largest) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    largest = fmaxf(largest, __shfl_xor_sync(0xffffffffu, largest, offset));
  }
  int exponent = 0;
  if (largest > 0.0f && largest <= 3.0e38f) {
    frexpf(largest, &exponent);
    return 15 - exponent;
  }
  return 0;
}

// The 16 bits of a value, and of a float rounded to T.
__device__ __forceinline__ uint32_t RawBits(__half v) { return __half_as_ushort(v); }
__device__ __forceinline__ uint32_t RawBits(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }
template <typename T>
__device__ __forceinline__ uint32_t RoundBits(float v) {
  return RawBits(FromAcc<T>(v));
}

// Two fp32 weights (consecutive k of one A-fragment register) scaled by
// 2^scale_exp (WarpWeightScaleExponent: ldexpf, since 2^scale_exp itself may
// pass fp32's range for tiny weights) and split into fp16 parts, w * 2^scale_exp
// = hi + lo to ~22 bits: *hi packs both hi parts, *lo both lo parts.
__device__ __forceinline__ void SplitScaledWeightPair(float w0, float w1, int scale_exp,
                                                      uint32_t* hi, uint32_t* lo) {
  uint32_t pair = 0, pair_lo = 0;
  const float w[2] = {w0, w1};
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    const float scaled = ldexpf(w[j], scale_exp);
    const __half big = __float2half_rn(scaled);
    pair |= RawBits(big) << (16 * j);
    pair_lo |= RawBits(__float2half_rn(scaled - __half2float(big))) << (16 * j);
  }
  *hi = pair;
  *lo = pair_lo;
}

// D += A (16x16, row) * B (16x8, col); fp16 or bf16 operands, fp32 accumulators.
// m16n8k16 is sm_80+. Turing (sm_75) runs fp16 as two m16n8k8 MMAs (the same
// products and fp32 sums) and bf16, which its tensor cores lack, on FFMA:
// each lane gathers its rows of A and columns of B with shuffles.
template <typename T>
__device__ __forceinline__ void Mma16816(float* d, const uint32_t* a, uint32_t b0, uint32_t b1);
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
template <typename T>
__device__ __forceinline__ float2 Unpack16(uint32_t pair) {
  T lo, hi;
  const unsigned short lo_bits = static_cast<unsigned short>(pair & 0xffff);
  const unsigned short hi_bits = static_cast<unsigned short>(pair >> 16);
  memcpy(&lo, &lo_bits, 2);
  memcpy(&hi, &hi_bits, 2);
  return make_float2(static_cast<float>(lo), static_cast<float>(hi));
}
// The m16n8k16 fragment layout: lane = 4 g + q holds A rows g, g + 8 at k
// 2q..2q+1 (a0, a1) and 2q+8..2q+9 (a2, a3), B column g at k 2q..2q+1 (b0) and
// 2q+8..2q+9 (b1), D rows g, g + 8 at columns 2q, 2q + 1.
template <typename T>
__device__ __forceinline__ void Mma16816Ffma(float* d, const uint32_t* a, uint32_t b0,
                                             uint32_t b1) {
  const int lane = threadIdx.x % 32, g = lane / 4, q = lane % 4;
#pragma unroll
  for (int qq = 0; qq < 4; ++qq) {
    uint32_t ar[4], bc[2][2];
#pragma unroll
    for (int i = 0; i < 4; ++i) ar[i] = __shfl_sync(0xffffffffu, a[i], 4 * g + qq);
#pragma unroll
    for (int c = 0; c < 2; ++c) {
      bc[c][0] = __shfl_sync(0xffffffffu, b0, 4 * (2 * q + c) + qq);
      bc[c][1] = __shfl_sync(0xffffffffu, b1, 4 * (2 * q + c) + qq);
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {  // k 2qq..2qq+1 (a0, a1, b0), 2qq+8.. (a2, a3, b1)
      const float2 row_g = Unpack16<T>(ar[2 * half]), row_g8 = Unpack16<T>(ar[2 * half + 1]);
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const float2 col = Unpack16<T>(bc[c][half]);
        d[c] = fmaf(row_g.y, col.y, fmaf(row_g.x, col.x, d[c]));
        d[2 + c] = fmaf(row_g8.y, col.y, fmaf(row_g8.x, col.x, d[2 + c]));
      }
    }
  }
}
template <>
__device__ __forceinline__ void Mma16816<__half>(float* d, const uint32_t* a, uint32_t b0,
                                                 uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(b0));
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[2]), "r"(a[3]), "r"(b1));
}
template <>
__device__ __forceinline__ void Mma16816<__nv_bfloat16>(float* d, const uint32_t* a, uint32_t b0,
                                                        uint32_t b1) {
  Mma16816Ffma<__nv_bfloat16>(d, a, b0, b1);
}
#else
template <>
__device__ __forceinline__ void Mma16816<__half>(float* d, const uint32_t* a, uint32_t b0,
                                                 uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void Mma16816<__nv_bfloat16>(float* d, const uint32_t* a, uint32_t b0,
                                                        uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
#endif

// TF32 MMAs (the pipelined projection's and the gradient's products over all
// pairs): fp32 operands as big + small TF32 parts. TF32 is sm_80+: the callers
// use it only there (Turing's build traps if it were ever reached).
__device__ __forceinline__ uint32_t ToTf32(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
  return __float_as_uint(x);
#else
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
#endif
}
// D += A (16x8, row) * B (8x8, col) in TF32, fp32 accumulators.
__device__ __forceinline__ void MmaTf32(float* d, const uint32_t* a, uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}
// x = big + small, both TF32 (small: the rounding remainder, itself rounded).
__device__ __forceinline__ void SplitTf32(float x, uint32_t* big, uint32_t* small) {
  *big = ToTf32(x);
  *small = ToTf32(x - __uint_as_float(*big));
}

__device__ __forceinline__ unsigned SharedAddress(const void* pointer) {
  return static_cast<unsigned>(__cvta_generic_to_shared(pointer));
}

// Asynchronous copies global -> shared (cp.async, sm_80+) of 4 or 16 bytes;
// bytes past src_bytes are zeroed (also for src_bytes = 0: the destination is
// always written, nothing is read). Turing (sm_75) has no cp.async: the copy
// is a load and a store by the calling thread, done when the call returns
// (the waits and the barriers after them keep their meaning).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
__device__ __forceinline__ void CopyAsync4(void* shared, const void* global, int src_bytes) {
  *static_cast<uint32_t*>(shared) =
      src_bytes >= 4 ? *static_cast<const uint32_t*>(global) : 0u;  // 0 or 4 bytes here
}
__device__ __forceinline__ void CopyAsync16(void* shared, const void* global, int src_bytes) {
  *static_cast<uint4*>(shared) =
      src_bytes >= 16 ? *static_cast<const uint4*>(global) : make_uint4(0, 0, 0, 0);
}
__device__ __forceinline__ void CopyAsyncCommit() {}
template <int kPending>
__device__ __forceinline__ void CopyAsyncWait() {}
#else
__device__ __forceinline__ void CopyAsync4(void* shared, const void* global, int src_bytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(SharedAddress(shared)),
               "l"(global), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void CopyAsync16(void* shared, const void* global, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SharedAddress(shared)),
               "l"(global), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void CopyAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// Waits until at most `kPending` of this thread's newest copy groups are in flight.
template <int kPending>
__device__ __forceinline__ void CopyAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}
#endif

// Four 8x8 matrices of 16-bit elements from shared memory (lanes 8i..8i+7 give
// matrix i's row addresses, 16-byte aligned); .trans hands out their transposes.
__device__ __forceinline__ void LoadMatrixX4(unsigned shared, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared));
}
__device__ __forceinline__ void LoadMatrixX4Trans(unsigned shared, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared));
}

// Thread-block cluster primitives (sm_90+; the launcher only asks for a
// cluster on such devices, older archs compile a trap).
__device__ __forceinline__ unsigned ClusterRank() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  unsigned rank;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(rank));
  return rank;
#else
  return 0;
#endif
}
// Barrier over every thread of the cluster, with release/acquire of shared
// memory writes (local and remote): it also serves as __syncthreads.
__device__ __forceinline__ void ClusterBarrier() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::
                   : "memory");
#else
  __trap();
#endif
}
// The shared::cluster address of `pointer`'s counterpart in block `rank`.
__device__ __forceinline__ unsigned MapToRank(const void* pointer, unsigned rank) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  unsigned address;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n"
               : "=r"(address)
               : "r"(SharedAddress(pointer)), "r"(rank));
  return address;
#else
  return 0;
#endif
}
__device__ __forceinline__ void StoreToCluster(unsigned address, float value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("st.shared::cluster.f32 [%0], %1;\n" ::"r"(address), "f"(value) : "memory");
#endif
}
__device__ __forceinline__ float LoadFromCluster(unsigned address) {
  float value = 0.0f;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("ld.shared::cluster.f32 %0, [%1];\n" : "=f"(value) : "r"(address) : "memory");
#endif
  return value;
}

// acc[q] += sum over j of v.j * w_j.q: one row's 4 outputs of a 4 x 4 FFMA
// tile (the persistent kernels' and the gradient's unit-slice products), in
// the order x, y, z, w of v so the sums are the same in every caller.
__device__ __forceinline__ void AccumulateRow4x4(float (&acc)[4], float4 v, float4 w0, float4 w1,
                                                 float4 w2, float4 w3) {
  acc[0] = fmaf(v.x, w0.x, acc[0]);
  acc[1] = fmaf(v.x, w0.y, acc[1]);
  acc[2] = fmaf(v.x, w0.z, acc[2]);
  acc[3] = fmaf(v.x, w0.w, acc[3]);
  acc[0] = fmaf(v.y, w1.x, acc[0]);
  acc[1] = fmaf(v.y, w1.y, acc[1]);
  acc[2] = fmaf(v.y, w1.z, acc[2]);
  acc[3] = fmaf(v.y, w1.w, acc[3]);
  acc[0] = fmaf(v.z, w2.x, acc[0]);
  acc[1] = fmaf(v.z, w2.y, acc[1]);
  acc[2] = fmaf(v.z, w2.z, acc[2]);
  acc[3] = fmaf(v.z, w2.w, acc[3]);
  acc[0] = fmaf(v.w, w3.x, acc[0]);
  acc[1] = fmaf(v.w, w3.y, acc[1]);
  acc[2] = fmaf(v.w, w3.z, acc[2]);
  acc[3] = fmaf(v.w, w3.w, acc[3]);
}

// A barrier among the blocks of one group of a cooperative launch (every
// block resident): the persistent recurrences' global modes and the gradient's
// unit-slice kernels. `counter` counts arrivals since launch (zeroed before
// it), so it never needs resetting inside the kernel: the n-th barrier of a
// group of g blocks waits for n * g arrivals. alone: a group of one block.
__device__ __forceinline__ unsigned LoadAcquireGpu(const unsigned* address) {
  unsigned value;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(value) : "l"(address) : "memory");
  return value;
}
__device__ __forceinline__ void GroupBarrier(unsigned* counter, unsigned target, bool alone) {
  __syncthreads();
  if (!alone && threadIdx.x == 0) {
    __threadfence();
    atomicAdd(counter, 1u);
    while (LoadAcquireGpu(counter) < target) {
    }
  }
  __syncthreads();
}

// Programmatic dependent launch (KernelLaunch's overlap_previous; sm_90+, no-ops
// elsewhere and in a launch that did not ask for it). The input projection lets
// the recurrence start at once; the recurrence loads its weights, then waits
// for the projection's whole grid (and its memory) before it reads xproj.
// xproj is read with plain loads: the compiler hoists __ldg (read-only,
// invariant) loads above the wait, which read a half-written xproj (seen).
__device__ __forceinline__ void AllowNextGridToStart() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void WaitForPreviousGrid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
// Host side: the launchers ask for the overlap where their plan allows it
// (RnnKernelOptions::no_overlap, TFTRT_MASKING_RNN_NO_OVERLAP: an A/B of the
// same build).

// The Keras default activations (the only ones the row kernels serve) from the
// hardware exp2 and reciprocal: ~1e-7 absolute error, far inside the 1e-5
// bound, and a quarter of the instructions of expf / IEEE division / tanhf on
// the step's serial chain (one warp per scheduler: each instruction on it
// costs its full latency).
__device__ __forceinline__ float Exp2Approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}
__device__ __forceinline__ float RcpApprox(float x) {
  float y;
  asm("rcp.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}
constexpr float kLog2e = 1.4426950408889634f;
__device__ __forceinline__ float FastSigmoid(float x) {
  return RcpApprox(1.0f + Exp2Approx(-kLog2e * x));
}
__device__ __forceinline__ float FastTanh(float x) {  // 1 - 2 / (1 + e^{2x}), saturates to +-1
  return fmaf(-2.0f, RcpApprox(1.0f + Exp2Approx(2.0f * kLog2e * x)), 1.0f);
}

// mask == nullptr: every step valid. mask_is_int32 selects int32 over bool bytes.
__device__ __forceinline__ bool MaskAt(const void* mask, bool mask_is_int32, int64_t index) {
  if (mask == nullptr) return true;
  if (mask_is_int32) return static_cast<const int32_t*>(mask)[index] != 0;
  return static_cast<const uint8_t*>(mask)[index] != 0;
}

// Everything the cell update needs besides the values, fixed for one call.
struct CellSpec {
  RnnCell cell;
  Activation activation;
  Activation recurrent_activation;
};

// One cell step for one (batch row, unit).
//   x_part[g]:   input projection of gate g (x @ kernel + input bias)
//   rec_part[g]: recurrent projection of gate g (h @ recurrent_kernel, plus the
//                recurrent bias for GRU reset_after). GRU reset_after=false is
//                not handled here (its candidate needs r of every unit first):
//                the simple path computes it in two phases.
//   h, c: state of this unit; returns the new h (the cell output), writes c_new.
template <typename Acc>
__device__ __forceinline__ Acc CellUpdate(const CellSpec& spec, const Acc* x_part,
                                          const Acc* rec_part, Acc h, Acc c, Acc* c_new) {
  switch (spec.cell) {
    case RnnCell::kLstm: {
      const Acc i = Activate(spec.recurrent_activation, x_part[0] + rec_part[0]);
      const Acc f = Activate(spec.recurrent_activation, x_part[1] + rec_part[1]);
      const Acc g = Activate(spec.activation, x_part[2] + rec_part[2]);
      const Acc o = Activate(spec.recurrent_activation, x_part[3] + rec_part[3]);
      const Acc c_next = f * c + i * g;
      *c_new = c_next;
      return o * Activate(spec.activation, c_next);
    }
    case RnnCell::kGru: {
      // reset_after=true: hh = act(mx_h + r * (h @ U_h + b_rec_h)).
      const Acc z = Activate(spec.recurrent_activation, x_part[0] + rec_part[0]);
      const Acc r = Activate(spec.recurrent_activation, x_part[1] + rec_part[1]);
      const Acc hh = Activate(spec.activation, x_part[2] + r * rec_part[2]);
      *c_new = c;
      return z * h + (Acc(1) - z) * hh;
    }
    case RnnCell::kSimpleRnn: {
      *c_new = c;
      return Activate(spec.activation, x_part[0] + rec_part[0]);
    }
  }
  *c_new = c;
  return h;
}

// CellUpdate for activation = tanh and recurrent_activation = sigmoid (the
// Keras defaults), with the activations known at compile time.
template <typename Acc>
__device__ __forceinline__ Acc CellUpdateTanhSigmoid(RnnCell cell, const Acc* x_part,
                                                     const Acc* rec_part, Acc h, Acc c,
                                                     Acc* c_new) {
  if (cell == RnnCell::kLstm) {
    const Acc i = Sigmoid(x_part[0] + rec_part[0]);
    const Acc f = Sigmoid(x_part[1] + rec_part[1]);
    const Acc g = tanh(x_part[2] + rec_part[2]);
    const Acc o = Sigmoid(x_part[3] + rec_part[3]);
    const Acc c_next = f * c + i * g;
    *c_new = c_next;
    return o * tanh(c_next);
  }
  *c_new = c;
  if (cell == RnnCell::kGru) {
    const Acc z = Sigmoid(x_part[0] + rec_part[0]);
    const Acc r = Sigmoid(x_part[1] + rec_part[1]);
    const Acc hh = tanh(x_part[2] + r * rec_part[2]);
    return z * h + (Acc(1) - z) * hh;
  }
  return tanh(x_part[0] + rec_part[0]);
}

// The tensors of one call as the fused recurrent kernels read them (the base of
// their kernel parameters), and the attributes every kernel needs.
template <typename T>
struct RecurrenceIo {
  const float* xproj;  // [B, T, N] = x @ kernel + input bias
  const void* mask;    // [B, T] bool or int32, or nullptr
  bool mask_is_int32;
  const T* recurrent_kernel;  // [U, N]
  const T* recurrent_bias;    // [N] (GRU reset_after) or nullptr
  const T* initial_h;
  const T* initial_c;
  T* output;
  T* final_h;
  T* final_c;
  int batch, time, units;
  bool go_backwards, return_sequences, zero_output_for_mask;
};

template <typename T>
void FillRecurrenceIo(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const float* xproj, RecurrenceIo<T>* io) {
  io->xproj = xproj;
  io->mask = args.mask;
  io->mask_is_int32 = args.mask_dtype == MaskDType::kInt32;
  io->recurrent_kernel = static_cast<const T*>(args.recurrent_kernel);
  const bool two_biases = config.cell == RnnCell::kGru && config.reset_after;
  io->recurrent_bias = (two_biases && config.has_bias && args.bias)
                           ? static_cast<const T*>(args.bias) + GateCount(config.cell) * config.units
                           : nullptr;
  const bool lstm = config.cell == RnnCell::kLstm;
  io->initial_h = static_cast<const T*>(args.initial_h);
  io->initial_c = lstm ? static_cast<const T*>(args.initial_c) : nullptr;
  io->output = static_cast<T*>(args.output);
  io->final_h = static_cast<T*>(args.final_h);
  io->final_c = lstm ? static_cast<T*>(args.final_c) : nullptr;
  io->batch = static_cast<int>(config.batch);
  io->time = static_cast<int>(config.time);
  io->units = static_cast<int>(config.units);
  io->go_backwards = config.go_backwards;
  io->return_sequences = config.return_sequences;
  io->zero_output_for_mask = config.zero_output_for_mask;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_RNN_DEVICE_CUH_
