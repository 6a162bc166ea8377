#!/usr/bin/env bash
# The browser end-to-end test drives Debian's Chromium (playwright-core cannot
# download its own browser here). Installs it when missing; quiet when present.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing; install Debian's chromium package (sudo apt-get install chromium)" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
