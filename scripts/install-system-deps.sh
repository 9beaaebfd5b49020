#!/usr/bin/env bash
# Installs the Debian packages the tests use and a fresh machine lacks: Chromium (browser tests)
# and GNU Octave (the MATLAB node kind). Does nothing when both are present.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v octave >/dev/null || missing+=(octave)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${missing[*]} with apt-get"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
