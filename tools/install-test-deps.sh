#!/usr/bin/env bash
# What the test suite needs beyond Python packages: Debian's chromium for the browser tests,
# Node.js for podcast-partytime (the Podcast Index's feed parser) and axe-core (accessibility checks), from the npm registry,
# nginx for the production-setup tests (deploy/nginx.conf in front of gunicorn), and the ffmpeg
# command line, which encodes renditions' MP3 as in production.
# Installs only what is missing, so repeated runs cost nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing ${missing[*]} (Debian packages) for the tests" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The exact versions in tests/js/package-lock.json.
if [ ! -d tests/js/node_modules/podcast-partytime ] || [ ! -d tests/js/node_modules/axe-core ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi
