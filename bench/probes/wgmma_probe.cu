// Probe (H100, sm_90a): can the row-group recurrence's h @ U run on wgmma
// instead of per-warp mma.sync, and what does a step's product cost?
//
// 1. Layout check: D (64 x 16) = A (64 x K, fp16, per-warp registers in the
//    m16n8k16 A layout) x B (K x 16, fp16, shared memory, no swizzle, K-major
//    core matrices of 8 rows x 16 bytes) against a float64 reference, for the
//    descriptor's two offset fields both ways round.
// 2. Cycles per step of one 4-warp block, 512 steps, K = 256 (H = 256):
//    mma.sync (today's kernel: each warp loads all of h, 2 MMAs per k tile into
//    8 chains, then adds them), wgmma m64n16k16 (hi and lo rows stacked along
//    N, one instruction per k tile), wgmma m64n8k16 (hi and lo apart), and the
//    step's store + fence + barrier alone.
//
//   nvcc -O3 -std=c++17 -arch=sm_90a bench/probes/wgmma_probe.cu -o wgmma_probe && ./wgmma_probe
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#define CHECK(x)                                                                   \
  do {                                                                             \
    cudaError_t e = (x);                                                           \
    if (e != cudaSuccess) {                                                        \
      std::printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e));        \
      std::exit(1);                                                                \
    }                                                                              \
  } while (0)

constexpr int K = 256, KT = K / 16, STEPS = 512;
// B layout: k tile kt at kt * 512 bytes; in it core matrix (kc, g) at
// kc * kKcStride + g * kGroupStride; row n at 16 n; k % 8 at 2 (k % 8).
constexpr unsigned kKcStride = 128, kGroupStride = 256, kTileBytes = 512;

__device__ __forceinline__ unsigned SmemAddr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ uint64_t Desc(unsigned addr, unsigned lbo, unsigned sbo) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) |
         (static_cast<uint64_t>((lbo & 0x3FFFF) >> 4) << 16) |
         (static_cast<uint64_t>((sbo & 0x3FFFF) >> 4) << 32);
}
__device__ __forceinline__ void WgFence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void WgCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void WgWait() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
__device__ __forceinline__ void FenceProxyAsync() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

__device__ __forceinline__ void Wg16(float (&d)[8], const uint32_t* a, uint64_t desc, int accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %13, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 "
      "{%0,%1,%2,%3,%4,%5,%6,%7}, {%8,%9,%10,%11}, %12, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]),
        "+f"(d[7])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}
__device__ __forceinline__ void Wg8(float (&d)[4], const uint32_t* a, uint64_t desc, int accumulate) {
  asm volatile(
      "{\n .reg .pred p;\n setp.ne.b32 p, %9, 0;\n"
      " wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, %8, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(accumulate));
}
__device__ __forceinline__ void Mma16816(float (&d)[4], const uint32_t* a, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// A fragment (m16n8k16 layout, warp w of the group holds rows 16 w..16 w + 15):
// reg e, half i: row gid + 8 (e & 1), k 2 tig + 8 (e >> 1) + i.
__device__ void LoadA(const __half* a_global, uint32_t (&a)[KT][4]) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, gid = lane >> 2, tig = lane & 3;
  for (int kt = 0; kt < KT; ++kt)
    for (int e = 0; e < 4; ++e) {
      const int m = 16 * warp + gid + 8 * (e & 1);
      const int k = 16 * kt + 2 * tig + 8 * (e >> 1);
      const __half lo = a_global[m * K + k], hi = a_global[m * K + k + 1];
      a[kt][e] = static_cast<uint32_t>(__half_as_ushort(lo)) |
                 (static_cast<uint32_t>(__half_as_ushort(hi)) << 16);
    }
}
__device__ unsigned BOffset(int k, int nn) {  // nn: 0..15 (g = nn / 8)
  return (k / 16) * kTileBytes + ((k % 16) / 8) * kKcStride + (nn / 8) * kGroupStride +
         16 * (nn % 8) + 2 * (k % 8);
}

// 1. D = A B with descriptor (lbo, sbo).
__global__ void LayoutCheck(const __half* a_global, const __half* b_global, float* d_out,
                            unsigned lbo, unsigned sbo) {
  __shared__ __align__(128) __half b_s[K * 16];
  for (int i = threadIdx.x; i < K * 16; i += blockDim.x) {
    const int k = i / 16, nn = i % 16;
    b_s[BOffset(k, nn) / 2] = b_global[k * 16 + nn];
  }
  FenceProxyAsync();
  __syncthreads();
  uint32_t a[KT][4];
  LoadA(a_global, a);
  float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  WgFence();
  for (int kt = 0; kt < KT; ++kt) Wg16(d, a[kt], Desc(SmemAddr(b_s) + kt * kTileBytes, lbo, sbo), kt > 0);
  WgCommit();
  WgWait();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, gid = lane >> 2, tig = lane & 3;
  for (int e = 0; e < 8; ++e) {
    const int m = 16 * warp + gid + 8 * ((e >> 1) & 1);
    const int nn = 8 * (e >> 2) + 2 * tig + (e & 1);
    d_out[m * 16 + nn] = d[e];
  }
}

// 2. Step loops. Every step: product, each lane writes one h value (makes the
// next step depend on this one), fence + barrier as in the kernel.
enum Variant { kMmaSync = 0, kWgmma16 = 1, kWgmma8 = 2, kStoreOnly = 3 };
// NC: independent accumulator chains (the k tiles dealt round robin).
template <int V, int NC>
__global__ void StepLoop(const __half* a_global, long long* cycles, float* sink) {
  __shared__ __align__(128) __half b_s[K * 16];
  for (int i = threadIdx.x; i < K * 16; i += blockDim.x) b_s[i] = __float2half(0.001f * (i % 7));
  FenceProxyAsync();
  __syncthreads();
  uint32_t a[KT][4];
  LoadA(a_global, a);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, gid = lane >> 2, tig = lane & 3;
  const unsigned base = SmemAddr(b_s);
  float total = 0.0f;
  const long long start = clock64();
  for (int step = 0; step < STEPS; ++step) {
    float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if constexpr (V == kMmaSync) {
      float acc[NC][4] = {};
#pragma unroll
      for (int kt = 0; kt < KT; ++kt) {
        uint4 b;
        asm volatile("ld.shared.v4.b32 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(b.x), "=r"(b.y), "=r"(b.z), "=r"(b.w)
                     : "r"(base + kt * kTileBytes + 64 * gid + 16 * tig)
                     : "memory");
        Mma16816(acc[(2 * kt) % NC], a[kt], b.x, b.y);
        Mma16816(acc[(2 * kt + 1) % NC], a[kt], b.z, b.w);
      }
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        d[e] = acc[0][e];
#pragma unroll
        for (int q = 1; q < NC; ++q) d[e] += acc[q][e];
      }
    } else if constexpr (V == kWgmma16) {
      float dc[NC][8];
      WgFence();
#pragma unroll
      for (int kt = 0; kt < KT; ++kt) {
        Wg16(dc[kt % NC], a[kt], Desc(base + kt * kTileBytes, kKcStride, kGroupStride), kt >= NC);
      }
      WgCommit();
      WgWait();
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        d[e] = 0.0f;
#pragma unroll
        for (int q = 0; q < NC; ++q) d[e] += dc[q][e] + dc[q][4 + e];
      }
    } else if constexpr (V == kWgmma8) {
      float hi[4] = {0, 0, 0, 0}, lo[4] = {0, 0, 0, 0};
      WgFence();
#pragma unroll
      for (int kt = 0; kt < KT; ++kt) {
        Wg8(hi, a[kt], Desc(base + kt * kTileBytes, kKcStride, kGroupStride), kt > 0);
        Wg8(lo, a[kt], Desc(base + kt * kTileBytes + kGroupStride, kKcStride, kGroupStride), kt > 0);
      }
      WgCommit();
      WgWait();
#pragma unroll
      for (int e = 0; e < 4; ++e) d[e] = hi[e] + lo[e];
    }
    const float v = d[0] + d[1] + d[2] + d[3];
    total += v;
    // Each lane stores a 2-byte h value (as the kernel's packets), then fence + barrier.
    const unsigned at = base + ((step % KT) * kTileBytes) + 16 * (2 * tig + (lane >> 4)) +
                        2 * (4 * (warp & 1) + (gid & 3)) + (warp >> 1) * kKcStride;
    asm volatile("st.shared.b16 [%0], %1;\n" ::"r"(at), "h"(__half_as_ushort(__float2half(1e-3f * v)))
                 : "memory");
    FenceProxyAsync();
    __syncthreads();
  }
  const long long stop = clock64();
  if (threadIdx.x == 0) cycles[blockIdx.x] = stop - start;
  sink[blockIdx.x * blockDim.x + threadIdx.x] = total;
}

int main() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<__half> a(64 * K), b(K * 16);
  std::vector<double> af(64 * K), bf(K * 16);
  for (int i = 0; i < 64 * K; ++i) { a[i] = __float2half(uni(rng)); af[i] = __half2float(a[i]); }
  for (int i = 0; i < K * 16; ++i) { b[i] = __float2half(uni(rng)); bf[i] = __half2float(b[i]); }
  __half *a_d, *b_d;
  float *d_d, *sink;
  long long* cyc;
  CHECK(cudaMalloc(&a_d, a.size() * 2));
  CHECK(cudaMalloc(&b_d, b.size() * 2));
  CHECK(cudaMalloc(&d_d, 64 * 16 * 4));
  CHECK(cudaMalloc(&sink, 1 << 16));
  CHECK(cudaMalloc(&cyc, 1024));
  CHECK(cudaMemcpy(a_d, a.data(), a.size() * 2, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(b_d, b.data(), b.size() * 2, cudaMemcpyHostToDevice));
  const unsigned variants[2][2] = {{kKcStride, kGroupStride}, {kGroupStride, kKcStride}};
  for (auto& v : variants) {
    CHECK(cudaMemset(d_d, 0xff, 64 * 16 * 4));
    LayoutCheck<<<1, 128>>>(a_d, b_d, d_d, v[0], v[1]);
    CHECK(cudaDeviceSynchronize());
    std::vector<float> d(64 * 16);
    CHECK(cudaMemcpy(d.data(), d_d, d.size() * 4, cudaMemcpyDeviceToHost));
    double worst = 0, ref_max = 0;
    for (int m = 0; m < 64; ++m)
      for (int nn = 0; nn < 16; ++nn) {
        double r = 0;
        for (int k = 0; k < K; ++k) r += af[m * K + k] * bf[k * 16 + nn];
        worst = std::fmax(worst, std::fabs(r - d[m * 16 + nn]));
        if (std::isnan(d[m * 16 + nn])) worst = INFINITY;
        ref_max = std::fmax(ref_max, std::fabs(r));
      }
    std::printf("layout check lbo=%u sbo=%u: max abs error %.3e (max |ref| %.2f) %s\n", v[0], v[1],
                worst, ref_max, worst < 1e-3 ? "MATCH" : "no match");
  }
  auto report = [&](const char* name, auto kernel) {
    for (int rep = 0; rep < 3; ++rep) {
      kernel<<<16, 128>>>(a_d, cyc, sink);
      CHECK(cudaDeviceSynchronize());
    }
    long long c[16];
    CHECK(cudaMemcpy(c, cyc, sizeof(c), cudaMemcpyDeviceToHost));
    long long lo = c[0], hi = c[0];
    for (long long x : c) { lo = x < lo ? x : lo; hi = x > hi ? x : hi; }
    std::printf("%-36s %7.1f .. %7.1f cycles per step (K = %d, 4 warps, 8 batch rows x hi + lo)\n",
                name, double(lo) / STEPS, double(hi) / STEPS, K);
  };
  report("mma.sync x32, 8 chains (today)", StepLoop<kMmaSync, 8>);
  report("mma.sync x32, 16 chains", StepLoop<kMmaSync, 16>);
  report("mma.sync x32, 4 chains", StepLoop<kMmaSync, 4>);
  report("wgmma m64n16k16 x16, 1 chain", StepLoop<kWgmma16, 1>);
  report("wgmma m64n16k16 x16, 2 chains", StepLoop<kWgmma16, 2>);
  report("wgmma m64n16k16 x16, 4 chains", StepLoop<kWgmma16, 4>);
  report("wgmma m64n16k16 x16, 8 chains", StepLoop<kWgmma16, 8>);
  report("wgmma m64n8k16 x32, 1 chain each", StepLoop<kWgmma8, 1>);
  report("store + fence + barrier only", StepLoop<kStoreOnly, 1>);
  return 0;
}
