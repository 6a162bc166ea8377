#!/usr/bin/env bash
# The python end-to-end test drives Debian's python3-sentry-sdk with Debian's
# /usr/bin/python3. Installs it when missing; quiet when present.
set -euo pipefail
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sentry_sdk' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-python-sdk: Debian's python3-sentry-sdk is missing; install it (sudo apt-get install python3-sentry-sdk)" >&2
  exit 1
fi
echo "ensure-python-sdk: installing Debian's python3-sentry-sdk package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends python3 python3-sentry-sdk >/dev/null
/usr/bin/python3 -c 'import sentry_sdk'
