#!/bin/bash
# SPDX-License-Identifier: MIT
# export-agree.sh - the PAC and Squid exports answer as `o365bypass lookup` does.
#
# For the four real tables under the default policy, the Worldwide, GCC High
# and 21Vianet tables under a pinning policy (TenantName, TenantDomain,
# NeverBypass with *.de and *teams*, AlsoBypass, RequiredOnly, Default
# bypassed), Worldwide under a broad one (NeverBypass 0.0.0.0/0 ::/0
# outlook*, MX pinning by TenantDomain alone) and tests/data/export-edges.json
# (rank ties, same pattern in sets of different categories, a port range,
# three levels of nesting) with and without RequiredOnly:
#   PAC    pacparser evaluates the exported file on the held-out URLs of
#          tests/tools/export-cases.py (every URL pattern instantiated,
#          look-alikes, malformed hosts, IPv4 addresses inside and outside
#          every prefix, every tenant namespace, other ports, plain http to
#          443): DIRECT exactly where lookup bypasses (~24,000 URLs);
#   Squid  tests/tools/squid-model.py evaluates the exported snippet and TLS
#          file as Squid does on every host on every listed TCP port plus 80,
#          443 and 8443: the adaptation rule and the ssl_bump splice agree
#          with lookup, except, for the edges table only, the three-level
#          nesting the lists do not express (inspected: never a wrong
#          bypass); `squid -k parse` accepts both files without a warning
#          (when Squid is installed; the TLS file needs squid-openssl).
# Also `node --check` of module/pac_runtime.js when node is installed.
# Non-root.  Exit 77 (skip) without python3-pacparser (Debian's, in
# /usr/bin/python3).
set -euo pipefail

cli=${O3B_CLI:?set O3B_CLI to the built o365bypass}
src=${top_srcdir:?set top_srcdir}
tools="$src/tests/tools"
data="$src/tests/data"
ww="$data/worldwide-2025-11-14.json"
ww2="$data/worldwide-noipv6-post-2025-11-14.json"
china="$data/china-2025-11-14.json"
gcch="$data/usgovgcchigh-2025-11-14.json"
edges="$data/export-edges.json"

py=""
for p in "${PYTHON3:-}" /usr/bin/python3 python3; do
    if [[ -n "$p" ]] && "$p" -c 'import pacparser' 2> /dev/null; then
        py=$p
        break
    fi
done
[[ -n "$py" ]] || { echo "SKIP: python3-pacparser not installed (apt-get install python3-pacparser)"; exit 77; }
squid=${SQUID:-$(command -v squid || true)}
[[ -x "$squid" ]] || squid=""

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
    echo "FAIL: $*"
    failed=1
}

# write_conf FILE DIRECTIVE...: a configuration with a private CacheDir.
write_conf() {
    local file=$1 line
    shift
    {
        echo "Service o365bypass srv_o365bypass.so"
        echo "o365bypass.SeedFile $src/module/data/endpoints-worldwide.json"
        echo "o365bypass.CacheDir $tmp/cache"
        echo "o365bypass.RefreshInterval 0"
        for line in "$@"; do echo "$line"; done
    } > "$file"
}
mkdir -p "$tmp/cache"
write_conf "$tmp/default.conf"
mapfile -t pinning < "$src/tests/data/pinning-policy.conf"
write_conf "$tmp/policy.conf" "${pinning[@]}"
write_conf "$tmp/broad.conf" \
    "o365bypass.NeverBypass 0.0.0.0/0 ::/0 outlook*" \
    "o365bypass.TenantDomain contoso.com"
write_conf "$tmp/required.conf" "o365bypass.RequiredOnly on"

# lookup_json CONF TABLE CASES OUT: lookup --json of every case.
lookup_json() {
    local -a cases
    mapfile -t cases < <(cut -f1 "$3")
    "$cli" -q -c "$1" -t "$2" lookup --json -- "${cases[@]}" > "$4" || [[ $? == 1 ]]
    [[ $(wc -l < "$4") == "${#cases[@]}" ]] || fail "lookup answered $(wc -l < "$4") of ${#cases[@]}"
}

check_pac() {
    local name=$1 conf=$2 table=$3 d="$tmp/$1" out
    "$py" "$tools/export-cases.py" pac "$table" > "$d/pac-cases"
    lookup_json "$conf" "$table" "$d/pac-cases" "$d/pac-lookup.json"
    "$cli" -q -c "$conf" -t "$table" export pac --proxy 127.0.0.1:3128 -o "$d/o365.pac" ||
        fail "$name: export pac"
    if out=$("$py" "$tools/pac-agree.py" "$d/o365.pac" "$d/pac-cases" "$d/pac-lookup.json"); then
        echo "  [$name] ${out##*$'\n'}"
    else
        printf '%s\n' "$out" | sed "s/^/  [$name] /"
        fail "$name: the PAC file (pacparser) disagrees with lookup"
    fi
}

# squid_parse NAME DIR: squid -k parse of the snippet and the TLS file.
squid_parse() {
    local name=$1 d=$2 rc=0
    [[ -n "$squid" ]] || { echo "  [$name] squid -k parse skipped: no squid"; return; }
    {
        echo "http_port 127.0.0.1:3128"
        echo "pid_filename none"
        echo "cache_log $d/cache.log"
        echo "access_log none"
        echo "acl lo_dst dst 127.0.0.0/8 ::1"
        echo "http_access deny !lo_dst"
        cat "$d/snippet.conf"
        if "$squid" -v | grep -q -- '--with-openssl'; then
            echo "include $d/o365bypass-tls.conf"
        else
            echo "  [$name] TLS file not parsed: this Squid has no OpenSSL (squid-openssl)" >&2
        fi
        echo "http_access deny o365bypass_inspect"
        echo "http_access allow o365bypass"
        echo "http_access deny all"
    } > "$d/squid.conf"
    "$squid" -k parse -f "$d/squid.conf" > "$d/parse.log" 2>&1 || rc=$?
    [[ $rc == 0 ]] || fail "$name: squid -k parse exit $rc (see below)"
    if [[ $rc != 0 ]] || grep -qi 'warning\|error\|subdomain\|subnetwork\|You should' "$d/parse.log"; then
        grep -i 'warning\|error\|fatal\|subdomain\|subnetwork\|You should' "$d/parse.log" |
            head -5 | sed "s/^/  [$name] /"
        fail "$name: squid -k parse complains about the exported ACLs"
    fi
}

check_squid() {
    local name=$1 conf=$2 table=$3 known=${4:-} d="$tmp/$1" out
    local -a opt=()
    [[ -n "$known" ]] && opt=(--known "$known")
    "$py" "$tools/export-cases.py" squid "$table" > "$d/squid-cases"
    lookup_json "$conf" "$table" "$d/squid-cases" "$d/squid-lookup.json"
    "$cli" -q -c "$conf" -t "$table" export squid --dir "$d" > "$d/snippet.conf" ||
        fail "$name: export squid"
    if out=$("$py" "$tools/squid-model.py" "${opt[@]}" --lookup "$d/squid-lookup.json" \
        "$d/snippet.conf" "$d/o365bypass-tls.conf"); then
        grep -v MISMATCH <<< "$out" | sed "s/^/  [$name] /"
    else
        printf '%s\n' "$out" | sed "s/^/  [$name] /"
        fail "$name: the Squid ACLs disagree with lookup"
    fi
    squid_parse "$name" "$d"
}

check() {
    mkdir -p "$tmp/$1"
    check_pac "$1" "$2" "$3"
    check_squid "$@"
}

check default-ww "$tmp/default.conf" "$ww"
check default-ww2 "$tmp/default.conf" "$ww2"
check default-china "$tmp/default.conf" "$china"
check default-gcch "$tmp/default.conf" "$gcch"
check policy-ww "$tmp/policy.conf" "$ww"
check policy-gcch "$tmp/policy.conf" "$gcch"
check policy-china "$tmp/policy.conf" "$china"
check broad-ww "$tmp/broad.conf" "$ww"
nested='(deep\.mid\.nest\.example|exact\.mid\.nest\.example|10\.20\.5\.)'
check edges-default "$tmp/default.conf" "$edges" "$nested"
check edges-required "$tmp/required.conf" "$edges" "$nested"

if command -v node > /dev/null; then
    node --check "$src/module/pac_runtime.js" || fail "module/pac_runtime.js: node --check"
fi
if [[ $failed != 0 ]]; then
    echo "FAIL: an export disagrees with lookup"
    exit 1
fi
echo "PASS: PAC and Squid exports agree with lookup"
