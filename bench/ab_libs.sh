#!/bin/bash
# Same-machine A/B of this tree against a base tree, in one device call:
#   bench/ab_libs.sh BASE.tar [harness bench args...]
# BASE.tar: `git archive <rev> kernels bench` of the base revision (carried as an
# ignored path). Builds both libraries, runs `harness.py check` on this tree's,
# then `harness.py bench` on SIDES (default "new base"; "new base new2" shows the
# drift between runs) with this tree's harness, the base library through
# TM_LIB. CHECK=0 skips the check. Logs under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
BASE_TAR=$1
shift
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
base=$(mktemp -d)
tar -xf "$BASE_TAR" -C "$base"
RESOURCE_USAGE=1 bench/build.sh > "$OUT/build.log" 2>&1 &
(cd "$base" && bench/build.sh) > "$OUT/build_base.log" 2>&1 &
wait
[[ -f bench/build/libtm.so && -f $base/bench/build/libtm.so ]] || {
  tail -30 "$OUT/build.log" "$OUT/build_base.log"; exit 2; }
status=0
if [[ ${CHECK:-1} != 0 ]]; then
  timeout 300 python3 bench/harness.py check 2>&1 | tee "$OUT/check.log" | grep -v "^  ok" \
    | tail -30 || status=1
fi
for side in ${SIDES:-new base}; do
  lib=bench/build/libtm.so
  [[ $side == base ]] && lib=$base/bench/build/libtm.so
  echo "== $side ($lib)"
  TM_LIB=$lib timeout 300 python3 bench/harness.py bench --skip-masking \
    --json "$OUT/bench_$side.json" "$@" > "$OUT/bench_$side.log" 2>&1 || status=1
  tail -3 "$OUT/bench_$side.log"
done
exit $status
