#!/usr/bin/env bash
# Sets up this project on a Debian/Ubuntu machine and deploys the dev stack:
#   Python venv -> what this machine has (`invoke doctor`) -> the Debian packages the chosen path
#   lacks -> Pulumi toolchain (an installed CLI/provider if compatible, else cached or built from
#   pinned Go sources) -> images (built offline, cached) -> cluster -> images loaded -> invoke up.
# It never replaces or stops a container runtime it did not install: a machine's own containerd
# (e.g. Docker's containerd.io) is used as it is, and the local cluster runs its own containerd
# on its own socket beside any system one. Steps that need root are named before anything runs.
# Heavy builds are cached under ~/.cache/news-tracker (NEWS_TRACKER_CACHE); a second run is quick.
# Usage: ./setup.sh            everything, then deploy the dev stack
#        ./setup.sh --no-deploy everything but the deploy (what CI uses)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

phase() { printf '\n== %s\n' "$*"; }
timed() { local t0=$SECONDS; "$@"; echo "   ($*: $((SECONDS - t0)) s)"; }

python_env() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || { echo "python3 -m venv failed: apt-get install python3-venv" >&2; return 1; }
  fi
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
}

require_root() {
  [ "$(id -u)" = 0 ] && return 0
  echo "./setup.sh needs root for these steps on this machine:" >&2
  .venv/bin/python -m tools.setup_plan root | sed 's/^/  - /' >&2
  echo "Run it as root (sudo ./setup.sh). Without root, \`.venv/bin/invoke toolchain\` still works." >&2
  return 1
}

# Only the packages the chosen path uses and the machine lacks (tools/setup_plan.py); a command
# another package already provides (containerd.io's containerd, ctr, runc) counts as present.
install_packages() {
  local missing
  missing=$(.venv/bin/python -m tools.setup_plan packages)
  if [ -z "$missing" ]; then
    echo "every Debian package this path uses is present"
    return 0
  fi
  echo "installing: $missing"
  apt-get update -qq
  # shellcheck disable=SC2086  # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

main() {
  local deploy=1
  [ "${1:-}" = "--no-deploy" ] && deploy=0
  phase "Python venv";          timed python_env
  phase "what this machine has"; .venv/bin/invoke doctor
  require_root
  phase "Debian packages";      timed install_packages
  phase "Pulumi toolchain";     timed .venv/bin/invoke toolchain
  phase "images";               timed .venv/bin/invoke images.build
  phase "cluster";              timed .venv/bin/invoke cluster.up
  phase "load images";          timed .venv/bin/invoke images.load
  if [ "$deploy" = 1 ]; then
    phase "deploy (dev stack)"; timed .venv/bin/invoke up
    .venv/bin/invoke pods
  fi
}

# Sourced (by the tests) it only defines the steps.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
