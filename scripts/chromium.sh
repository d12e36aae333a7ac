# shellcheck shell=bash
# ensure_chromium installs Debian's Chromium for the browser journeys (e2e/)
# when no Chromium or Chrome is on the PATH. Diagnostics go to stderr.

ensure_chromium() {
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then return 0; fi
  done
  echo "installing Chromium from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
}
