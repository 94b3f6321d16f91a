// The input projection of the GPU recurrence, for every timestep at once:
// xproj[rows, n] = x[rows, k] @ kernel[k, n] + bias[n] (bias may be null),
// row-major, fp32 accumulation (double for float64), own tiled kernels (no
// cuBLAS). Big products of 16-bit types run on pipelined tensor-core tiles
// (mma.sync), fp32 ones there too as 3xTF32 where choice.fp32_as_tf32x3;
// small products split K over a thread-block cluster where
// choice.k_split_clusters (sm_90+). Callable from any .cu file: one overload
// per element type.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PROJECTION_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PROJECTION_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/rnn/rnn_kernel_choice.h"

namespace tftrt_masking {
namespace rnn_gpu {

// choice: ChooseRnnKernel's, or a ProjectionChoice of the caller's (the
// pipelined tiles need k % 8 == 0, n % 8 == 0 and 16-byte aligned x and
// kernel). num_sms: the device's SM count (sizes the K split).
cudaError_t LaunchProjection(const float* x, const float* kernel, const float* bias, int64_t rows,
                             int n, int k, float* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream);
cudaError_t LaunchProjection(const __half* x, const __half* kernel, const __half* bias,
                             int64_t rows, int n, int k, float* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream);
cudaError_t LaunchProjection(const __nv_bfloat16* x, const __nv_bfloat16* kernel,
                             const __nv_bfloat16* bias, int64_t rows, int n, int k, float* xproj,
                             int num_sms, const ProjectionChoice& choice, cudaStream_t stream);
cudaError_t LaunchProjection(const double* x, const double* kernel, const double* bias,
                             int64_t rows, int n, int k, double* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PROJECTION_CUH_
