#!/usr/bin/env bash
# The browser tests: agentgate's pages in headless Chromium (Debian's `chromium` package,
# driven by playwright-core; nothing is downloaded). Build the binary first
# (`cargo build --workspace`); it is found as tests/browser/lib/harness.mjs says.
# Screenshots go to test-output/browser/ at the workspace root. scripts/test installs what
# this needs. Without Chromium or npm it fails under CI=true; elsewhere it says on stderr
# that it skipped and exits 77 (not 0: nothing ran).
set -euo pipefail
cd "$(dirname "$0")"
cannot_run() {
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "tests/browser: cannot run under CI=true: $1" >&2
    exit 1
  fi
  echo "skipped: $1" >&2
  exit 77
}
if [ ! -x /usr/bin/chromium ]; then
  cannot_run "Chromium is not installed (sudo apt-get install -y chromium)"
fi
if ! command -v npm >/dev/null 2>&1; then
  cannot_run "Node.js and npm are not installed (sudo apt-get install -y nodejs npm)"
fi
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
# One file at a time: each starts its own server and browser, and the machine has two cores.
exec node --test --test-reporter=spec --test-concurrency=1 tests/*.test.mjs
