#!/usr/bin/env bash
# Installs what the console's browser test needs: Debian's Chromium and
# playwright-core (from package-lock.json) in e2e/node_modules.
# Idempotent, and offline-safe once both are present: it touches no network
# when /usr/bin/chromium exists and node_modules matches the lock file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install.sh: npm is missing (install Node.js 18+); the browser test will skip" >&2
    exit 0
fi

# Nothing to do when the locked playwright-core version is installed.
wanted="$(node -p "require('$here/package-lock.json').packages['node_modules/playwright-core'].version" 2>/dev/null || true)"
have="$(node -p "require('$here/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
if [ -n "$wanted" ] && [ "$wanted" = "$have" ]; then
    exit 0
fi
# Playwright must not download a browser of its own: Debian's is used.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts >/dev/null
