"""Why the gradient's float32 products on TF32 tensor cores (3xTF32, masked_rnn_grad_gpu.cu's
StridedGemmTcKernel) are less accurate than the FFMA tiles (H200 check, session 14: rel. error
~2e-6 on d_x / d_kernel / d_recurrent_kernel where FFMA gave ~3e-7): a NumPy emulation of one
product, A [256 x 512] @ B [512 x 128], random normal fp32, against float64. Host only.

The split itself is accurate (3xTF32 with exact accumulation ~8e-8). What is not: the MMA's
fp32 accumulator, modelled here as exact sums of the 8 products of one m16n8k8 step added to
the accumulator with round-toward-zero (the truncating alignment reported for NVIDIA tensor
cores, Fasi et al. 2021): one chain of 3 x K/8 such additions gives ~5e-6. Chains of one K
tile (16: 6 additions from zero) summed into a separate fp32 accumulator with round-to-nearest
adds give ~2e-7, better than sequential FFMA (~4e-7): a fix to try (at a cost of registers).
  python3 bench/tf32_chain_error.py"""
import numpy as np

M, K, N = 256, 512, 128


def rna_tf32(x):
  """cvt.rna.tf32.f32: round to 10 mantissa bits, ties away from zero."""
  bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
  return ((bits + 0x1000) & 0xFFFFE000).astype(np.uint32).view(np.float32)


def rz32(x):
  """float64 -> float32 rounded toward zero."""
  f = x.astype(np.float32)
  over = np.abs(f.astype(np.float64)) > np.abs(x)
  f[over] = np.nextafter(f[over], np.float32(0))
  return f


def main():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((M, K)).astype(np.float32)
  b = rng.standard_normal((K, N)).astype(np.float32)
  ref = a.astype(np.float64) @ b.astype(np.float64)

  def err(c):
    return np.linalg.norm(c - ref) / np.linalg.norm(ref)

  a_big, b_big = rna_tf32(a), rna_tf32(b)
  a_small, b_small = rna_tf32(a - a_big), rna_tf32(b - b_big)
  terms = ((a_small, b_big), (a_big, b_small), (a_big, b_big))  # the kernel's order

  acc = np.zeros((M, N), np.float32)
  for k in range(K):
    acc = acc + np.outer(a[:, k], b[k, :]).astype(np.float32)
  print(f"fp32 FFMA, sequential over K:                      {err(acc):.1e}")
  exact = sum(x.astype(np.float64) @ y.astype(np.float64) for x, y in terms)
  print(f"3xTF32, exact accumulation:                        {err(exact):.1e}")

  def chains(tile_k, rounding):
    main_acc = np.zeros((M, N), np.float32)
    acc = np.zeros((M, N), np.float64)
    for k0 in range(0, K, 8):
      for x, y in terms:
        s = acc + x[:, k0:k0 + 8].astype(np.float64) @ y[k0:k0 + 8].astype(np.float64)
        acc = (rz32(s) if rounding == "rz" else s.astype(np.float32)).astype(np.float64)
      if tile_k and (k0 + 8) % tile_k == 0:  # the K tile's chain into the RN accumulator
        main_acc = main_acc + acc.astype(np.float32)
        acc = np.zeros((M, N), np.float64)
    return main_acc if tile_k else acc
  print(f"3xTF32, one MMA chain, round-to-nearest adds:      {err(chains(0, 'rn')):.1e}")
  print(f"3xTF32, one MMA chain, round-toward-zero adds:     {err(chains(0, 'rz')):.1e}")
  print(f"3xTF32, RZ chains per K tile of 16, RN sum:        {err(chains(16, 'rz')):.1e}")
  print(f"3xTF32, RZ chains per K tile of 64, RN sum:        {err(chains(64, 'rz')):.1e}")


if __name__ == "__main__":
  main()
