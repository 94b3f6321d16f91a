#include <cuda_runtime_api.h>

#include "kernels/common/types.h"

namespace tftrt_masking {

const char* GpuErrorString(int error) {
  return cudaGetErrorString(static_cast<cudaError_t>(error));
}

}  // namespace tftrt_masking
