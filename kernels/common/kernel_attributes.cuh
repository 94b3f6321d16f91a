// Host helpers for the kernels' launch attributes (recurrences, Masking).
// cudaFuncSetAttribute and the occupancy queries cost tens of microseconds,
// which showed up as fixed cost per call at T = 10, so their answers are kept
// per (device, kernel, launch shape).
#ifndef TFTRT_MASKING_KERNELS_COMMON_KERNEL_ATTRIBUTES_CUH_
#define TFTRT_MASKING_KERNELS_COMMON_KERNEL_ATTRIBUTES_CUH_

#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

namespace tftrt_masking {

inline std::mutex& KernelAttributeMutex() {
  static std::mutex mutex;
  return mutex;
}

// Raises the kernel's dynamic shared-memory limit to at least `bytes` on the
// current device. The attribute is a limit for every later launch of the
// kernel, so it only ever grows (lowering it broke a later, larger plan).
// Callers hold KernelAttributeMutex().
inline cudaError_t EnsureDynamicSharedMemoryLocked(int device, const void* kernel, size_t bytes) {
  static std::map<std::pair<int, const void*>, size_t> limits;
  size_t& limit = limits[{device, kernel}];
  if (bytes <= limit) return cudaSuccess;
  const cudaError_t error = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (error == cudaSuccess) limit = bytes;
  return error;
}

template <typename Kernel>
cudaError_t EnsureDynamicSharedMemory(Kernel kernel, size_t bytes) {
  int device = 0;
  const cudaError_t error = cudaGetDevice(&device);
  if (error != cudaSuccess) return error;
  std::lock_guard<std::mutex> lock(KernelAttributeMutex());
  return EnsureDynamicSharedMemoryLocked(device, reinterpret_cast<const void*>(kernel), bytes);
}

// A launch configuration for cudaLaunchKernelEx (the attributes live in the
// object: neither copied nor moved):
// - cluster_size >= 1: a 1-D thread-block cluster of that many blocks (or a
//   3-D cluster shape);
// - overlap_previous (sm_90+ only): programmatic dependent launch. The kernel
//   may start once every block of the stream's previous kernel has called
//   AllowNextGridToStart(), and calls WaitForPreviousGrid() (rnn_device.cuh)
//   before it reads that kernel's output, so its launch and prologue overlap
//   the previous kernel's tail (the recurrences after the input projection).
struct KernelLaunch {
  cudaLaunchConfig_t config = {};
  cudaLaunchAttribute attributes[2] = {};
  KernelLaunch(unsigned blocks, unsigned threads, size_t shared_bytes, unsigned cluster_size,
               cudaStream_t stream, bool overlap_previous = false)
      : KernelLaunch(dim3(blocks), dim3(threads), shared_bytes, dim3(cluster_size, 1, 1), stream,
                     overlap_previous) {}
  // cluster.x == 0: no cluster.
  KernelLaunch(dim3 grid, dim3 block, size_t shared_bytes, dim3 cluster, cudaStream_t stream,
               bool overlap_previous) {
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = shared_bytes;
    config.stream = stream;
    unsigned count = 0;
    if (cluster.x >= 1) {
      attributes[count].id = cudaLaunchAttributeClusterDimension;
      attributes[count].val.clusterDim.x = cluster.x;
      attributes[count].val.clusterDim.y = cluster.y;
      attributes[count].val.clusterDim.z = cluster.z;
      ++count;
    }
    if (overlap_previous) {
      attributes[count].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attributes[count].val.programmaticStreamSerializationAllowed = 1;
      ++count;
    }
    config.attrs = attributes;
    config.numAttrs = count;
  }
  KernelLaunch(const KernelLaunch&) = delete;
  KernelLaunch& operator=(const KernelLaunch&) = delete;
};

// The occupancy answer for `kernel` with blocks of `threads` threads and
// `shared_bytes` of dynamic shared memory on the current device: clusters of
// `cluster_size` blocks held at once (0 when it cannot run such a cluster), or
// for cluster_size 0 blocks per SM. Also raises the kernel's shared-memory
// limit and allows clusters > 8 (a non-portable size, which Hopper has).
// Answers are kept per key.
template <typename Kernel>
cudaError_t CachedOccupancy(Kernel kernel, int threads, size_t shared_bytes, int cluster_size,
                            int* answer) {
  using Key = std::tuple<int, const void*, int, size_t, int>;
  static std::map<Key, int> cache;
  int device = 0;
  cudaError_t error = cudaGetDevice(&device);
  if (error != cudaSuccess) return error;
  const void* const address = reinterpret_cast<const void*>(kernel);
  std::lock_guard<std::mutex> lock(KernelAttributeMutex());
  const Key key(device, address, threads, shared_bytes, cluster_size);
  const auto found = cache.find(key);
  if (found != cache.end()) {
    *answer = found->second;
    return cudaSuccess;
  }
  if ((error = EnsureDynamicSharedMemoryLocked(device, address, shared_bytes)) != cudaSuccess) {
    return error;
  }
  if (cluster_size == 0) {
    error = cudaOccupancyMaxActiveBlocksPerMultiprocessor(answer, kernel, threads, shared_bytes);
    if (error != cudaSuccess) return error;
  } else {
    if (cluster_size > 8 &&
        (error = cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed,
                                      1)) != cudaSuccess) {
      return error;
    }
    const KernelLaunch launch(cluster_size, threads, shared_bytes, cluster_size, nullptr);
    if (cudaOccupancyMaxActiveClusters(answer, kernel, &launch.config) != cudaSuccess) {
      cudaGetLastError();
      *answer = 0;  // no cluster of this size: remembered as "no"
    }
  }
  cache[key] = *answer;
  return cudaSuccess;
}

// Clusters of `cluster_size` (>= 1) blocks the current device holds at once.
template <typename Kernel>
cudaError_t MaxActiveClusters(Kernel kernel, int threads, size_t shared_bytes, int cluster_size,
                              int* clusters) {
  return CachedOccupancy(kernel, threads, shared_bytes, cluster_size, clusters);
}

// Blocks per SM the current device holds at once.
template <typename Kernel>
cudaError_t MaxActiveBlocksPerSm(Kernel kernel, int threads, size_t shared_bytes, int* blocks) {
  return CachedOccupancy(kernel, threads, shared_bytes, 0, blocks);
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_COMMON_KERNEL_ATTRIBUTES_CUH_
