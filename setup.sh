#!/usr/bin/env bash
# Sets up everything on a fresh Debian 12 machine (as root) and deploys the dev stack:
#   Debian packages -> Python venv -> Pulumi toolchain (built from pinned Go sources, cached)
#   -> images (built offline, cached) -> local cluster -> images loaded -> invoke up.
# Heavy builds are cached under ~/.cache/news-tracker (NEWS_TRACKER_CACHE); a second run is quick.
# Usage: ./setup.sh            everything, then deploy the dev stack
#        ./setup.sh --no-deploy everything but the deploy (what CI uses)
set -euo pipefail
cd "$(dirname "$0")"

deploy=1
[ "${1:-}" = "--no-deploy" ] && deploy=0

phase() { printf '\n== %s\n' "$*"; }
timed() { local t0=$SECONDS; "$@"; echo "   ($*: $((SECONDS - t0)) s)"; }

PACKAGES=(containerd runc containernetworking-plugins iptables iproute2 debootstrap
          busybox-static openjdk-17-jre-headless curl ca-certificates openssl)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian starts containerd as a service on install; the cluster runs its own instance.
  if systemctl is-active --quiet containerd 2>/dev/null; then systemctl disable --now containerd; fi
}

python_env() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
}

command -v go >/dev/null || { echo "Go is required to build the Pulumi CLI and Kubernetes: install Go >= 1.24 and put it on PATH" >&2; exit 1; }

phase "Debian packages";   timed install_packages
phase "Python venv";       timed python_env
phase "Pulumi toolchain";  timed .venv/bin/invoke toolchain
phase "images";            timed .venv/bin/invoke images.build
phase "local cluster";     timed .venv/bin/invoke cluster.up
phase "load images";       timed .venv/bin/invoke images.load
if [ "$deploy" = 1 ]; then
  phase "deploy (dev stack)"; timed .venv/bin/invoke up
  .venv/bin/invoke pods
fi
