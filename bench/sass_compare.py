"""Compares the SASS of two builds kernel by kernel: names, instruction counts, and the
instruction text modulo addresses (for "only code moved, the SASS is the same" claims).

  cuobjdump -sass -arch sm_90a before.o > before.sass   # cuobjdump + nvdisasm: the
  cuobjdump -sass -arch sm_90a after.o > after.sass     # nvidia-cuda-cuobjdump/-nvdisasm wheels
  python3 bench/sass_compare.py before.sass after1.sass,after2.sass

Comma-separated lists compare the kernels of several objects together (a .cu split in files).
Names of anonymous namespaces (which carry a hash of their file) are normalised, so are the
encodings and addresses; branch targets are offsets within a function and stay compared.
Exit status 1 when any kernel differs or exists on one side only.
"""
import re
import sys

ANON = re.compile(r"\d+_GLOBAL__N__[0-9a-f]+_\d+_\w+?_cu_[0-9a-f]+")
FUNCTION = re.compile(r"\s*Function : (\S+)")
INSTRUCTION = re.compile(r"\s*/\*[0-9a-f]{4,}\*/\s+(.*?)\s*;?\s*(/\*.*\*/)?\s*$")


def normalise(text):
  return ANON.sub("ANON", text)


def kernels(paths):
  """{kernel name: [instruction text]} over the listings in `paths`."""
  found = {}
  for path in paths:
    name = None
    for line in open(path):
      match = FUNCTION.match(line)
      if match:
        name = normalise(match.group(1))
        found[name] = []
        continue
      match = INSTRUCTION.match(line)
      if match and name:
        instruction = match.group(1).strip().rstrip(";").strip()
        if instruction:
          found[name].append(normalise(instruction))
  return found


def main():
  before = kernels(sys.argv[1].split(","))
  after = kernels(sys.argv[2].split(","))
  only = sorted(set(before) ^ set(after))
  print(f"kernels: before {len(before)}, after {len(after)}; on one side only: {len(only)}")
  for name in only[:10]:
    print("  only", "before:" if name in before else "after:", name[:150])
  same = differ = 0
  for name in sorted(set(before) & set(after)):
    if before[name] == after[name]:
      same += 1
    else:
      differ += 1
      if differ <= 5:
        print(f"  differs: {name[:120]}: {len(before[name])} vs {len(after[name])} instructions")
  total_before = sum(len(v) for v in before.values())
  total_after = sum(len(v) for v in after.values())
  print(f"identical {same}, different {differ}; instructions {total_before} before, "
        f"{total_after} after")
  sys.exit(1 if only or differ else 0)


if __name__ == "__main__":
  main()
