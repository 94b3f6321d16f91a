"""Turns a bench.json written by `harness.py bench --json` into the markdown of bench/RESULTS.md.

  python3 bench/make_results.py bench.json > table.md            # the tables of bench/RESULTS.md
  python3 bench/make_results.py --full bench.json > table.md     # one row per shape, every column
"""
import collections
import json
import sys


def target(row):
  if row["B"] <= 32 and row["H"] <= 256:
    return 0.5
  if row["B"] <= 128 and row["H"] <= 512:
    return 1.0
  return None


def mark(target_ratio, ratio):
  if target_ratio is None:
    return "-"
  return f"<= {target_ratio} " + ("ok" if ratio <= target_ratio else "MISS")


def compact_lstm(rows):
  """Per dtype one row per (B, T, F), one column per H: "ours ms: ratio / GPU-time ratio"."""
  for dtype in ("float32", "float16"):
    sel = [r for r in rows if r["dtype"] == dtype]
    if not sel:
      continue
    judged = [r for r in sel if target(r) is not None]
    met = sum(r["ratio"] <= target(r) for r in judged)
    gpu = all("ratio_gpu" in r for r in sel)
    met_gpu = sum(r["ratio_gpu"] <= target(r) for r in judged) if gpu else None
    print(f"### LSTM {dtype}: targets met on {met} of {len(judged)} judged shapes" +
          (f" ({met_gpu} of {len(judged)} on GPU time alone)" if gpu else "") +
          f"; worst rel. error {max(r['rel_error'] for r in sel):.1e}\n")
    hs = sorted({r["H"] for r in sel})
    cells = collections.defaultdict(dict)
    for r in sel:
      t = target(r)
      miss = "" if t is None or r["ratio"] <= t else " MISS"
      ratio_gpu = f" / {r['ratio_gpu']:.2f}" if gpu else ""
      cells[(r["B"], r["T"], r["F"])][r["H"]] = f"{r['ours_ms']:.3f}: {r['ratio']:.2f}{ratio_gpu}{miss}"
    print("| B | T | F | " + " | ".join(f"H = {h}" for h in hs) + " |")
    print("| ---: | ---: | ---: | " + " | ".join("---" for _ in hs) + " |")
    for (b, t, f), by_h in sorted(cells.items()):
      print(f"| {b} | {t} | {f} | " + " | ".join(by_h.get(h, "") for h in hs) + " |")
    print()


def main():
  full = "--full" in sys.argv[1:]
  paths = [a for a in sys.argv[1:] if a != "--full"]
  results = json.load(open(paths[0]))
  print(f"GPU: {results['device']}; date: {results['date']}\n")
  m = results.get("masking")
  if m:
    print(f"### Masking kernel (copy rate measured in the same run: {m['copy_gbps']:.0f} GB/s, "
          "read + write of a 256 MiB buffer)\n")
    gpu = all("fraction_of_copy_gpu" in r for r in m["rows"])
    print("| dtype | elements | features | mask | ms | GB/s | % of copy |" +
          (" GPU time ms | copy of the same bytes, GB/s | % of copy, GPU time |" if gpu else ""))
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |" +
          (" ---: | ---: | ---: |" if gpu else ""))
    for r in m["rows"]:
      extra = (f" {r['gpu_ms']:.3f} | {r['copy_gpu_gbps']:.0f} | "
               f"{100 * r['fraction_of_copy_gpu']:.1f} |" if gpu else "")
      print(f"| {r['dtype']} | {r['elements']} | {r['features']} | {r['mask']} | {r['ms']:.3f} | "
            f"{r['gbps']:.0f} | {100 * r['fraction_of_copy']:.1f} |{extra}")
    print()
  rows = results.get("lstm", [])
  if not full:
    compact_lstm(rows)
    return
  for dtype in ("float32", "float16"):
    sel = [r for r in rows if r["dtype"] == dtype]
    if not sel:
      continue
    judged = [r for r in sel if target(r) is not None]
    met = [r for r in judged if r["ratio"] <= target(r)]
    gpu = all("ratio_gpu" in r for r in sel)
    lean = all("ratio_lean" in r for r in sel)
    met_lean = [r for r in judged if lean and r["ratio_lean"] <= target(r)]
    met_gpu = [r for r in judged if gpu and r["ratio_gpu"] <= target(r)]
    print(f"### LSTM {dtype}: targets met on {len(met)} of {len(judged)} judged shapes" +
          (f" ({len(met_gpu)} of {len(judged)} on GPU time alone)" if gpu else "") +
          (f" ({len(met_lean)} of {len(judged)} against torch._VF.lstm)" if lean else "") + "\n")
    tf32 = dtype == "float32"
    print("| B | T | F | H | ours ms | cuDNN ms | ratio | target | " +
          ("cuDNN TF32 ms | " if tf32 else "") + "ours us/step | rel. err |" +
          (" GPU time: ours ms | cuDNN ms | ratio | target |" if gpu else "") +
          (" cuDNN via torch._VF.lstm ms | ratio | target |" if lean else ""))
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | " +
          ("---: | " if tf32 else "") + "---: | ---: |" +
          (" ---: | ---: | ---: | :---: |" if gpu else "") + (" ---: | ---: | :---: |" if lean else ""))
    for r in sel:
      t = target(r)
      extra = f"{r['cudnn_tf32_ms']:.3f} | " if tf32 else ""
      more_cols = (f" {r['ours_gpu_ms']:.3f} | {r['cudnn_gpu_ms']:.3f} | {r['ratio_gpu']:.2f} | "
                  f"{mark(t, r['ratio_gpu'])} |" if gpu else "")
      if lean:
        more_cols += (f" {r['cudnn_lean_ms']:.3f} | {r['ratio_lean']:.2f} | "
                     f"{mark(t, r['ratio_lean'])} |")
      print(f"| {r['B']} | {r['T']} | {r['F']} | {r['H']} | {r['ours_ms']:.3f} | "
            f"{r['cudnn_ms']:.3f} | {r['ratio']:.2f} | {mark(t, r['ratio'])} | "
            f"{extra}{r['us_per_step']:.2f} | {r['rel_error']:.1e} |{more_cols}")
    print()


if __name__ == "__main__":
  main()
