#!/usr/bin/env bash
# Refresh the Open Podcast Analytics Working Group's user-agent patterns vendored in
# podcast_service/analytics/user_agents/ (MIT licence, kept beside them) from
# https://github.com/opawg/user-agents-v2, then run the analytics tests:
#     tools/update-user-agents.sh [BRANCH-OR-COMMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${1:-master}"
target=podcast_service/analytics/user_agents
base="https://raw.githubusercontent.com/opawg/user-agents-v2/${ref}"
for name in bots apps libraries browsers referrers; do
  curl -fsSL "${base}/build/${name}.runtime.json" -o "${target}/${name}.json.new"
  python3 -c "import json,sys; json.load(open(sys.argv[1]))['entries']" "${target}/${name}.json.new"
  mv "${target}/${name}.json.new" "${target}/${name}.json"
done
curl -fsSL "${base}/LICENSE" -o "${target}/LICENSE"
echo "updated from opawg/user-agents-v2@${ref}; now: .venv/bin/python -m pytest tests/test_analytics.py"
