#!/usr/bin/env bash
# Debian packages the test suite needs: chromium for the browser tests.
# Installs only what is missing, so repeated runs cost nothing.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing ${missing[*]} (Debian packages) for the tests" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
