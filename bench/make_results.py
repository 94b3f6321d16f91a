"""Turns a bench.json written by `harness.py bench --json` into the markdown of bench/RESULTS.md.

  python3 bench/make_results.py bench.json > table.md
"""
import json
import sys


def target(row):
  if row["B"] <= 32 and row["H"] <= 256:
    return 0.5
  if row["B"] <= 128 and row["H"] <= 512:
    return 1.0
  return None


def main():
  results = json.load(open(sys.argv[1]))
  print(f"GPU: {results['device']}; date: {results['date']}\n")
  m = results.get("masking")
  if m:
    print(f"### Masking kernel (copy rate measured in the same run: {m['copy_gbps']:.0f} GB/s, "
          "read + write of a 256 MiB buffer)\n")
    print("| dtype | elements | features | mask | ms | GB/s | % of copy |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in m["rows"]:
      print(f"| {r['dtype']} | {r['elements']} | {r['features']} | {r['mask']} | {r['ms']:.3f} | "
            f"{r['gbps']:.0f} | {100 * r['fraction_of_copy']:.1f} |")
    print()
  rows = results.get("lstm", [])
  for dtype in ("float32", "float16"):
    sel = [r for r in rows if r["dtype"] == dtype]
    if not sel:
      continue
    met = [r for r in sel if target(r) is not None and r["ratio"] <= target(r)]
    judged = [r for r in sel if target(r) is not None]
    print(f"### LSTM {dtype}: targets met on {len(met)} of {len(judged)} judged shapes\n")
    tf32 = dtype == "float32"
    print("| B | T | F | H | ours ms | cuDNN ms | ratio | target | " +
          ("cuDNN TF32 ms | " if tf32 else "") + "ours us/step | rel. err |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | " +
          ("---: | " if tf32 else "") + "---: | ---: |")
    for r in sel:
      t = target(r)
      mark = "-" if t is None else (f"<= {t} ok" if r["ratio"] <= t else f"<= {t} MISS")
      extra = f"{r['cudnn_tf32_ms']:.3f} | " if tf32 else ""
      print(f"| {r['B']} | {r['T']} | {r['F']} | {r['H']} | {r['ours_ms']:.3f} | "
            f"{r['cudnn_ms']:.3f} | {r['ratio']:.2f} | {mark} | {extra}{r['us_per_step']:.2f} | "
            f"{r['rel_error']:.1e} |")
    print()


if __name__ == "__main__":
  main()
