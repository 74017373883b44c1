#!/usr/bin/env bash
# The browser tests: agentgate's pages in headless Chromium (Debian's `chromium` package,
# driven by playwright-core; nothing is downloaded). Build the binary first
# (`cargo build --workspace`); it is found as tests/browser/lib/harness.mjs says.
# Screenshots go to test-output/browser/ at the workspace root.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  echo "skipped: chromium not installed"
  exit 0
fi
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
# One file at a time: each starts its own server and browser, and the machine has two cores.
exec node --test --test-reporter=spec --test-concurrency=1 tests/*.test.mjs
