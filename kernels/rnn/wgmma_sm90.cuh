// Warpgroup MMA (sm_90a): D (64 x N, fp32) (+)= A (64 x 16, fp16/bf16, registers)
// x B (16 x N, shared memory through a matrix descriptor). A's registers hold
// the m16n8k16 A fragment of the warp's 16 rows (warp w % 4 of the warpgroup
// holds rows 16 (w % 4)..+15); D chunk c (columns 8 c..8 c + 7) is d[4 c..4 c + 3]
// in the m16n8 accumulator layout; B's descriptor: MatrixDescriptor
// (row_group_layout.h). Only compiled where the arch-specific features exist
// (compute_90a): TFTRT_MASKING_HAS_WGMMA.
#ifndef TFTRT_MASKING_KERNELS_RNN_WGMMA_SM90_CUH_
#define TFTRT_MASKING_KERNELS_RNN_WGMMA_SM90_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TFTRT_MASKING_HAS_WGMMA 1
#else
#define TFTRT_MASKING_HAS_WGMMA 0
#endif

namespace tftrt_masking {
namespace rnn_gpu {

#if TFTRT_MASKING_HAS_WGMMA
// Before the first wgmma that reads registers written since the last one.
__device__ __forceinline__ void WgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void WgmmaCommitAndWait() {
  asm volatile("wgmma.commit_group.sync.aligned;\nwgmma.wait_group.sync.aligned 0;\n" ::: "memory");
}

// Wgmma<M, N>::Run(d, a, descriptor, accumulate): accumulate = 0 overwrites d.
// N = 16, 32, 48, 64 (the row-group kernel's 8-row tiles, hi and lo).
template <typename M, int N>
struct Wgmma;

// One macro per N (the operand lists differ), instantiated for fp16 and bf16.
#define TFTRT_MASKING_WGMMA_N16(M, TYPE)                                                           \
  template <>                                                                                      \
  struct Wgmma<M, 16> {                                                                            \
    static __device__ __forceinline__ void Run(float* d, const uint32_t* a, uint64_t desc,         \
                                               int accumulate) {                                   \
      asm volatile(                                                                                \
          "{\n .reg .pred p;\n setp.ne.b32 p, %13, 0;\n"                                           \
          " wgmma.mma_async.sync.aligned.m64n16k16.f32." TYPE "." TYPE " {"                        \
          "%0,%1,%2,%3,%4,%5,%6,%7}, "                                                             \
          "{%8,%9,%10,%11}, %12, p, 1, 1, 0;\n}\n"                                                 \
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),                \
            "+f"(d[6]), "+f"(d[7])                                                                 \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));               \
    }                                                                                              \
  };
TFTRT_MASKING_WGMMA_N16(__half, "f16")
TFTRT_MASKING_WGMMA_N16(__nv_bfloat16, "bf16")
#undef TFTRT_MASKING_WGMMA_N16

#define TFTRT_MASKING_WGMMA_N32(M, TYPE)                                                           \
  template <>                                                                                      \
  struct Wgmma<M, 32> {                                                                            \
    static __device__ __forceinline__ void Run(float* d, const uint32_t* a, uint64_t desc,         \
                                               int accumulate) {                                   \
      asm volatile(                                                                                \
          "{\n .reg .pred p;\n setp.ne.b32 p, %21, 0;\n"                                           \
          " wgmma.mma_async.sync.aligned.m64n32k16.f32." TYPE "." TYPE " {"                        \
          "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15}, "                               \
          "{%16,%17,%18,%19}, %20, p, 1, 1, 0;\n}\n"                                               \
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),                \
            "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),              \
            "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15])                                     \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));               \
    }                                                                                              \
  };
TFTRT_MASKING_WGMMA_N32(__half, "f16")
TFTRT_MASKING_WGMMA_N32(__nv_bfloat16, "bf16")
#undef TFTRT_MASKING_WGMMA_N32

#define TFTRT_MASKING_WGMMA_N48(M, TYPE)                                                           \
  template <>                                                                                      \
  struct Wgmma<M, 48> {                                                                            \
    static __device__ __forceinline__ void Run(float* d, const uint32_t* a, uint64_t desc,         \
                                               int accumulate) {                                   \
      asm volatile(                                                                                \
          "{\n .reg .pred p;\n setp.ne.b32 p, %29, 0;\n"                                           \
          " wgmma.mma_async.sync.aligned.m64n48k16.f32." TYPE "." TYPE " {"                        \
          "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,"                                 \
          "%16,%17,%18,%19,%20,%21,%22,%23}, "                                                     \
          "{%24,%25,%26,%27}, %28, p, 1, 1, 0;\n}\n"                                               \
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),                \
            "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),              \
            "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),          \
            "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23])           \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));               \
    }                                                                                              \
  };
TFTRT_MASKING_WGMMA_N48(__half, "f16")
TFTRT_MASKING_WGMMA_N48(__nv_bfloat16, "bf16")
#undef TFTRT_MASKING_WGMMA_N48

#define TFTRT_MASKING_WGMMA_N64(M, TYPE)                                                           \
  template <>                                                                                      \
  struct Wgmma<M, 64> {                                                                            \
    static __device__ __forceinline__ void Run(float* d, const uint32_t* a, uint64_t desc,         \
                                               int accumulate) {                                   \
      asm volatile(                                                                                \
          "{\n .reg .pred p;\n setp.ne.b32 p, %37, 0;\n"                                           \
          " wgmma.mma_async.sync.aligned.m64n64k16.f32." TYPE "." TYPE " {"                        \
          "%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,"                                 \
          "%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, "                     \
          "{%32,%33,%34,%35}, %36, p, 1, 1, 0;\n}\n"                                               \
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),                \
            "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),              \
            "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),          \
            "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),          \
            "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),          \
            "+f"(d[30]), "+f"(d[31])                                                               \
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));               \
    }                                                                                              \
  };
TFTRT_MASKING_WGMMA_N64(__half, "f16")
TFTRT_MASKING_WGMMA_N64(__nv_bfloat16, "bf16")
#undef TFTRT_MASKING_WGMMA_N64

#endif  // TFTRT_MASKING_HAS_WGMMA

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_WGMMA_SM90_CUH_
