#!/bin/bash
# SPDX-License-Identifier: MIT
# squid-measure.sh - how often a build's Squid export disagrees with its `lookup`.
#
# For each TABLE: the held-out cases of export-cases.py (every host on every
# listed TCP port plus 80, 443 and 8443, plain http to 80 and 443), decided
# by `lookup --json` and by squid-model.py reading what `export squid`
# wrote; prints the model's summary lines (wrongly bypassed: the ACLs
# exempt what the module inspects).  Works with any build of the CLI (e.g.
# main's before the port groups, for a before/after figure).
#
# usage: squid-measure.sh CLI CONF TABLE.json...
#   CONF: a c-icap configuration for the CLI (-c), e.g. tests/scripts'
#   default.conf; everything goes to a temporary directory, removed after.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 CLI CONF TABLE.json..." >&2; exit 2; }
cli=$1 conf=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON3:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for table in "$@"; do
    name=$(basename "$table" .json)
    mkdir -p "$tmp/$name"
    "$py" "$here/export-cases.py" squid "$table" > "$tmp/$name/cases"
    mapfile -t cases < "$tmp/$name/cases"
    "$cli" -q -c "$conf" -t "$table" lookup --json -- "${cases[@]}" > "$tmp/$name/lookup.json" || true
    "$cli" -q -c "$conf" -t "$table" export squid --dir "$tmp/$name" > "$tmp/$name/snippet.conf"
    confs=("$tmp/$name/snippet.conf")
    [[ -f "$tmp/$name/o365bypass-tls.conf" ]] && confs+=("$tmp/$name/o365bypass-tls.conf")
    echo "== $name (${#cases[@]} cases)"
    "$py" "$here/squid-model.py" --show "${SHOW:-0}" --lookup "$tmp/$name/lookup.json" \
        "${confs[@]}" || true
done
