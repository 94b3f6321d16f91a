# Sourced by the device scripts (bench/*_device_run.sh): logs under $OUT/logs, packed into
# $OUT/logs.tgz on exit (a device call returns at most 8 files), and steps cut to a time budget
# so that the logs are packed before the call's limit.
#   BUDGET=seconds (default 540); step NAME LIMIT command...: runs it with at most LIMIT s (less
#   when the budget is nearly spent), keeps its log, prints its summary lines; SKIP="name ..."
#   skips those steps (a call that re-checks only what changed).
OUT=${OUT:-/tmp/out}
LOGS=$OUT/logs
mkdir -p "$LOGS"
trap 'tar czf "$OUT/logs.tgz" -C "$OUT" logs && rm -rf "$LOGS"' EXIT
export PYTHONUNBUFFERED=1
START=$(date +%s)
BUDGET=${BUDGET:-540}
left() { local l=$(( BUDGET - ($(date +%s) - START) )); (( l < $1 )) && echo $(( l > 1 ? l : 1 )) || echo $1; }
skipped() { [[ " ${SKIP:-} " == *" $1 "* ]] && echo "-- $1 skipped (SKIP)"; }
step() {
  local name=$1 limit=$2; shift 2
  skipped "$name" && return 0
  local t0=$(date +%s)
  timeout "$(left "$limit")" "$@" > "$LOGS/$name.log" 2>&1 || echo "$name: rc=$?"
  echo "-- $name ($(( $(date +%s) - t0 )) s)"
  grep -E "FAILED|FAIL |WRONG|done in|cases passed|^FAIL" "$LOGS/$name.log" | head -12
}
