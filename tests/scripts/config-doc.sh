#!/bin/bash
# SPDX-License-Identifier: MIT
# config-doc.sh - the installed include file documents every directive row,
# with the very default the module applies, and nothing else.
#
# `o365bypass check-config --list` prints the directive rows (config.h):
# name, type, default (or "(what unset means)"), help, TAB-separated.  The
# built conf/o365bypass.conf (conf/o365bypass.conf.in with this build's
# paths) must show each directive as a commented line "#o365bypass.NAME
# VALUE"; for a directive with a default, its first such line must carry
# exactly that default.  Every "o365bypass.NAME" line of the file must be a
# row, and every row must be in README's directive table.
set -euo pipefail

cli=${O3B_CLI:?set O3B_CLI to the built o365bypass}
conf=${top_builddir:?set top_builddir}/conf/o365bypass.conf
readme=${top_srcdir:?set top_srcdir}/README.md
failures=0
fail() { echo "FAIL: $*"; failures=$(( failures + 1 )); }

[[ -f "$conf" ]] || { echo "FAIL: $conf not built"; exit 1; }
list=$("$cli" check-config --list)
(( $(grep -c . <<< "$list") >= 20 )) || { echo "FAIL: check-config --list printed too little"; exit 1; }
declare -A rows=()
while IFS=$'\t' read -r name type default help; do
    rows[$name]=1
    first=$(grep -E "^#$name( |$)" "$conf" | head -n 1 || true)
    if [[ -z "$first" ]]; then
        fail "$name is not documented in ${conf##*/} (no '#$name ...' line)"
        continue
    fi
    value=${first#"#$name"}
    value=${value# }
    if [[ "$default" != "("* && "$value" != "$default" ]]; then
        fail "$name: ${conf##*/} shows '$value', the module's default is '$default'"
    fi
    grep -qF "\`$name\`" "$readme" || fail "$name is not in README's directive table"
    [[ -n "$type" && -n "$help" ]] || fail "$name: the row has no type or help"
done <<< "$list"
while read -r name; do
    [[ -n "${rows[$name]:-}" ]] || fail "${conf##*/} documents $name, which is no directive"
done < <(grep -oE '^#?o365bypass\.[A-Za-z0-9]+' "$conf" | sed 's/^#//' | sort -u)
if (( failures > 0 )); then
    echo "$failures problem(s)"
    exit 1
fi
echo "PASS: ${#rows[@]} directives, each documented with its default"
