#!/usr/bin/env bash
# The whole suite on both stacks at once: the embedded defaults (SQLite + local folder) and
# PostgreSQL + SeaweedFS, each spread over pytest-xdist workers (two, three) that take test files as
# they free up (--dist loadfile: a file's tests share one worker, so its fixtures and servers
# are set up once). The tests spend much of their time waiting (on servers they start, on
# browsers, on worker processes, on slow clients they simulate), so five processes share two
# cores well. Each stack writes its own log, ending with its fifteen slowest steps; both are
# printed when both are done, and the exit status is the first failure's. Extra arguments go to
# both runs.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
pids=()
# PostgreSQL's stack waits more (on its servers) and runs longer: it gets a third worker, so both end together.
for stack in sqlite-local:2 postgres-s3:3; do
  .venv/bin/python -m pytest --stack="${stack%:*}" -p no:cacheprovider -n "${stack#*:}" --dist loadfile \
    --durations=15 "$@" >"$logs/${stack%:*}.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || { code=$?; [ "$status" -ne 0 ] || status=$code; }
done
for stack in sqlite-local postgres-s3; do
  echo "===== $stack ====="
  cat "$logs/$stack.log"
done
rm -rf "$logs"
exit "$status"
