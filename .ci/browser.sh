#!/usr/bin/env bash
# Browser tests: headless Chromium driven through chromedriver (crates/sync-cli/tests/it/browser.rs).
#
# Installs Debian's `chromium` and `chromium-driver` when /usr/bin/chromium or
# /usr/bin/chromedriver is missing (apt-get, as root). The browser tests themselves run in the
# README's test command, which `.ci/run` runs with CI=true: a missing browser fails them there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null | head -1
/usr/bin/chromedriver --version | head -1
