#!/usr/bin/env bash
# The whole suite on both stacks at once: the embedded defaults (SQLite + local folder) and
# PostgreSQL + SeaweedFS, each in two halves of the test files. The tests spend much of their
# time waiting (on servers they start, on browsers, on slow clients they simulate), so four
# runs share two cores well. Each run writes its own log; all are printed when all are done,
# and the exit status is the first failure's. Extra arguments go to every run.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
mapfile -t files < <(ls tests/test_*.py)
first=() second=()
for i in "${!files[@]}"; do
  if (( i % 2 )); then second+=("${files[$i]}"); else first+=("${files[$i]}"); fi
done
run() {  # name, stack, test files...
  local name=$1 stack=$2
  shift 2
  .venv/bin/python -m pytest --stack="$stack" -p no:cacheprovider "$@" >"$logs/$name.log" 2>&1
}
pids=()
for stack in sqlite-local postgres-s3; do
  run "$stack-1" "$stack" "${first[@]}" "$@" &
  pids+=($!)
  run "$stack-2" "$stack" "${second[@]}" "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || { code=$?; [ "$status" -ne 0 ] || status=$code; }
done
for name in sqlite-local-1 sqlite-local-2 postgres-s3-1 postgres-s3-2; do
  echo "===== $name ====="
  cat "$logs/$name.log"
done
rm -rf "$logs"
exit "$status"
