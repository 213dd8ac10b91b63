#!/usr/bin/env bash
# Screenshots of the HTML diff report and the review page for docs/images/ (not run in CI).
#
# Runs the browser tests (crates/sync-cli/tests/it/browser.rs) with SYNC_SCREENSHOTS set:
# each saves a PNG of its page (1280x900, headless Chromium) as it checks it:
#   docs/images/diff-report.png   sync-cli diff --format html of the test data
#   docs/images/review-page.png   the review page of a held mass removal
# Needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."

out="$PWD/docs/images"
mkdir -p "$out"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! CI=true SYNC_SCREENSHOTS="$out" cargo test --locked -p sync-cli --test it browser:: \
    -- --nocapture >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
grep '^saved ' "$log"
ls -l "$out"/*.png
