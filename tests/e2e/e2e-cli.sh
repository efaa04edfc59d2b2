#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-cli.sh - the o365bypass command-line tool against real data and real tools.
#
# Phases (each a block of soft checks; all mismatches are reported at once):
#   lookup        the real Worldwide table: verdicts, explanations, exit codes,
#                 IP / CONNECT-style / malformed forms, --json
#   show, diff    counts of the real table, the status and pending files the
#                 module keeps in CacheDir; the two Worldwide files differ in
#                 sets 33, 105 and 193 (exit 1), a file against itself (exit 0)
#   check-config  a good file (exit 0, "OK") and a bad one (exit 1, each bad
#                 line named FILE:LINE)
#   fetch         against tests/tools/feedserver.py on loopback: into a temp
#                 CacheDir like the module, -o for a mirror (byte-exact), the
#                 version check, the same ClientRequestId, failures exit 2
#   (the exports are checked against `lookup` by the non-root
#   tests/scripts/export-agree.sh: pacparser, a Squid ACL model, squid -k parse)
#   stats         a real c-icap with the built module: requests sent with
#                 c-icap-client, the counters in both outputs match, and the
#                 Prometheus text passes a format checker; then a scripted
#                 ICAP server: an unknown counter label is exported under a
#                 sanitized name, a dribbled chunked answer is reassembled, a
#                 server that never answers fails after the 5 s timeout
# Needs root (like the other e2e tests), c-icap and Squid; skips (exit 77)
# otherwise.  Every process started is stopped by PID.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

SYS_PYTHON=/usr/bin/python3
DATA="$top_srcdir/tests/data"
WW="$DATA/worldwide-2025-11-14.json"
WW2="$DATA/worldwide-noipv6-post-2025-11-14.json"

e2e_init cli
[[ -x "$O3B_CLI" ]] || hard_error "CLI not built: $O3B_CLI"
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"

# run_cli OUT_VAR RC_VAR ARGS...: run the CLI, keep stdout+stderr and the exit code.
run_cli() {
    local -n _out=$1 _rc=$2
    shift 2
    _rc=0
    _out=$("$O3B_CLI" "$@" 2>&1) || _rc=$?
}

# A configuration with the repository's seed and a private CacheDir.
write_conf() {
    local file=$1
    shift
    {
        echo "# written by e2e-cli.sh"
        echo "Service o365bypass srv_o365bypass.so"
        echo "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json"
        echo "o365bypass.CacheDir $E2E_DIR/cache"
        echo "o365bypass.RefreshInterval 0"
        local line
        for line in "$@"; do echo "$line"; done
    } > "$file"
}

write_conf "$E2E_DIR/default.conf"
mapfile -t PINNING < "$top_srcdir/tests/data/pinning-policy.conf"
write_conf "$E2E_DIR/policy.conf" "${PINNING[@]}"

# ---- lookup ---------------------------------------------------------------------

phase_lookup() {
    local out rc
    e2e_log "lookup"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup https://outlook.office.com/
    check_eq 0 "$rc" "lookup outlook.office.com exit"
    check_prefix "bypass " "$out" "lookup outlook.office.com first word"
    check_contains "set 1 " "$out" "lookup outlook.office.com names set 1"
    check_contains "Optimize" "$out" "lookup outlook.office.com names Optimize"
    check_contains "exact host" "$out" "lookup outlook.office.com match kind"

    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup https://www.office.com/
    check_eq 1 "$rc" "lookup www.office.com exit"
    check_prefix "inspect " "$out" "lookup www.office.com first word"
    check_contains "set 147 " "$out" "lookup www.office.com names set 147"
    check_contains "Default" "$out" "lookup www.office.com names Default"
    check_contains "*.office.com" "$out" "lookup www.office.com names the wildcard"

    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup 52.96.1.1
    check_eq 0 "$rc" "lookup IPv4 in 52.96.0.0/14 exit"
    check_contains "52.96.0.0/14" "$out" "lookup IPv4 names the prefix"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup outlook.office.com:443 \
        '[2603:1006::1]:443' 2603:1006::2 teams.microsoft.com
    check_eq 0 "$rc" "lookup CONNECT-style host:port and IPv6 forms exit"
    check_eq 4 "$(grep -c '^bypass ' <<< "$out")" "lookup CONNECT-style forms: 4 bypassed"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup 8.8.8.8 outlook.office.com:8443
    check_eq 1 "$rc" "lookup outside the table / unlisted port exit"
    check_contains "not for this port" "$out" "lookup unlisted port reason"

    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup 'http://outlook.office.com@evil.example/'
    check_eq 1 "$rc" "lookup userinfo exit"
    check_prefix "inspect " "$out" "lookup userinfo first word"
    check_contains "user information" "$out" "lookup userinfo refusal reason"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup 'ftp://outlook.office.com/' \
        'http://0x34.96.1.1/'
    check_eq 1 "$rc" "lookup other scheme / IPv4 number form exit"
    check_contains "neither http nor https" "$out" "lookup other scheme reason"

    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup --json https://outlook.office.com/ \
        https://www.office.com/
    check_eq 1 "$rc" "lookup --json exit"
    check_eq 2 "$(grep -c '^{.*}$' <<< "$out")" "lookup --json: one object per argument"
    check_contains '"verdict":"bypass"' "$out" "lookup --json verdict"
    check_contains '"id":147' "$out" "lookup --json set id"

    run_cli out rc -c "$E2E_DIR/policy.conf" -t "$WW" lookup https://fabrikam.sharepoint.com/
    check_eq 1 "$rc" "lookup with TenantName: another tenant exit"
    check_contains "TenantName" "$out" "lookup with TenantName: reason"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" lookup
    check_eq 2 "$rc" "lookup without arguments exit"
    run_cli out rc -c "$E2E_DIR/missing.conf" lookup outlook.office.com
    check_eq 2 "$rc" "lookup with an unreadable -c file exit"
}

# ---- show, diff, check-config -----------------------------------------------------------

phase_show_diff() {
    local out rc
    e2e_log "show, diff"
    run_cli out rc -c "$E2E_DIR/default.conf" -t "$WW" show
    check_eq 0 "$rc" "show exit"
    check_contains "sets        64: Optimize 3, Allow 7, Default 54" "$out" "show set counts"
    check_contains "URLs        204: 127 exact, 77 wildcard" "$out" "show URL counts"
    check_contains "IPv4        51 prefixes" "$out" "show IPv4 count"
    check_contains "IPv6        78 prefixes" "$out" "show IPv6 count"
    check_contains "tag         seed-" "$out" "show content tag"
    check_contains "BypassCategories  Optimize, Allow" "$out" "show policy"
    check_eq 1 "$(grep -cE '^module +o365bypass [0-9]+\.[0-9]+\.[0-9]+$' <<< "$out" || true)" \
        "show names the module version"

    # the files the module's master keeps in CacheDir
    local cache="$E2E_DIR/show-cache"
    mkdir -p "$cache"
    write_conf "$E2E_DIR/show.conf" "o365bypass.CacheDir $cache"
    printf '{"last_attempt": 1763100000, "next_due": 1763103600, "result": "not modified", "client_request_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}\n' \
        > "$cache/status-Worldwide.json"
    cp "$WW2" "$cache/endpoints-Worldwide.pending.json"
    run_cli out rc -c "$E2E_DIR/show.conf" show
    check_eq 0 "$rc" "show with a status file exit"
    check_contains "version     none" "$out" "show: the seed has no version"
    check_contains "2025-11-14 06:00:00 UTC" "$out" "show: last refresh time from the status file"
    check_contains ": not modified" "$out" "show: last refresh result"
    check_contains "ClientRequestId   0f8fad5b-d9cb-469f-a165-70867728950e" "$out" "show: client id"
    check_contains "PENDING" "$out" "show: a pending table is announced"
    check_contains "o365bypass_accept" "$out" "show: how to accept the pending table"

    run_cli out rc diff "$WW" "$WW2"
    check_eq 1 "$rc" "diff of the two Worldwide files exit"
    check_prefix "sets +1 -2 ~" "$out" "diff summary first"
    check_contains "set 33" "$out" "diff names set 33"
    check_contains "set 105" "$out" "diff names set 105"
    check_contains "set 193" "$out" "diff names set 193"
    run_cli out rc diff "$WW" "$WW"
    check_eq 0 "$rc" "diff of a file with itself exit"
    run_cli out rc diff "$WW" "$E2E_DIR/none.json"
    check_eq 2 "$rc" "diff with a missing file exit"
}

phase_check_config() {
    local out rc bad="$E2E_DIR/bad.conf"
    e2e_log "check-config"
    run_cli out rc check-config "$E2E_DIR/policy.conf"
    check_eq 0 "$rc" "check-config good file exit"
    check_contains "$E2E_DIR/policy.conf: OK" "$out" "check-config good file says OK"
    cat > "$bad" <<EOF
Service o365bypass srv_o365bypass.so
o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json
o365bypass.RefreshInterval 5
# a comment line
o365bypass.Instance Mars
o365bypass.BypassCategories Optimize Bogus
o365bypass.AlsoBypass *.com
o365bypass.ClientRequestId b10c5ed1-bad1-445f-b386-b919946339a7
EOF
    run_cli out rc check-config "$bad"
    check_eq 1 "$rc" "check-config bad file exit"
    local line
    for line in 3 5 6 7 8; do
        check_contains "$bad:$line: o365bypass." "$out" "check-config names bad line $line"
    done
    check_eq 0 "$(grep -c "^$bad:[124]:" <<< "$out" || true)" "check-config: good lines not named"
    run_cli out rc -c "$bad" check-config
    check_eq 1 "$rc" "check-config of the -c file exit"
    run_cli out rc check-config "$E2E_DIR/none.conf"
    check_eq 2 "$rc" "check-config unreadable file exit"
}

# ---- fetch against the loopback feed server ------------------------------------------------



phase_fetch() {
    local out rc conf="$E2E_DIR/fetch.conf" cache="$E2E_DIR/fetch-cache" id
    e2e_log "fetch"
    start_feed
    {
        echo "Service o365bypass srv_o365bypass.so"
        echo "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json"
        echo "o365bypass.CacheDir $cache"
        echo "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT"
        echo "o365bypass.ConnectTimeout 5"
        echo "o365bypass.FetchTimeout 20"
    } > "$conf"
    run_cli out rc -c "$conf" fetch
    check_eq 0 "$rc" "fetch into CacheDir exit"
    check_prefix "2025111400 updated: $cache/endpoints-Worldwide.json" "$out" "fetch prints the version"
    check_eq yes "$([[ -s $cache/endpoints-Worldwide.json ]] && echo yes)" "fetch wrote the cache file"
    id=$(cat "$cache/client-request-id" 2>/dev/null || true)
    run_cli out rc -c "$conf" show
    check_contains "version     2025111400" "$out" "show after fetch: version from the cache"
    run_cli out rc -c "$conf" fetch
    check_eq 0 "$rc" "fetch again exit"
    check_prefix "2025111400 not modified" "$out" "fetch again: not modified"

    feed_control "version=2025121500&file=tests/data/worldwide-noipv6-post-2025-11-14.json"
    run_cli out rc -c "$conf" fetch
    check_eq 0 "$rc" "fetch a newer version exit"
    check_prefix "2025121500 updated" "$out" "fetch a newer version"
    check_eq yes "$([[ -s $cache/endpoints-Worldwide.prev.json ]] && echo yes)" "fetch kept the previous table"
    run_cli out rc -c "$conf" diff
    check_eq 1 "$rc" "diff of CacheDir previous/current exit"
    check_contains "set 193" "$out" "diff of CacheDir previous/current names set 193"

    run_cli out rc -c "$conf" fetch -o "$E2E_DIR/mirror.json"
    check_prefix "2025121500 not modified" "$out" "fetch -o: not newer than the table in use"
    run_cli out rc -c "$conf" fetch -o "$E2E_DIR/mirror.json" --force
    check_eq 0 "$rc" "fetch -o --force exit"
    check_prefix "2025121500 written: $E2E_DIR/mirror.json" "$out" "fetch -o prints the version"
    check_eq same "$(cmp -s "$WW2" "$E2E_DIR/mirror.json" && echo same)" "fetch -o wrote the body byte for byte (CRLF kept)"

    # every request carried the ClientRequestId kept in CacheDir
    local ids
    ids=$(curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$FEED_PORT/_requests" |
        "$SYS_PYTHON" -c 'import json,sys; print(" ".join(sorted({r["params"].get("clientrequestid","") for r in json.load(sys.stdin)})))')
    check_eq "$id" "$ids" "fetch used the ClientRequestId of CacheDir in every request"

    feed_control "fault=invalid-json&target=endpoints"
    run_cli out rc -c "$conf" fetch -o "$E2E_DIR/bad.json" --force
    check_eq 2 "$rc" "fetch -o of an invalid feed exit"
    check_contains "refused" "$out" "fetch -o of an invalid feed: refused"
    check_eq no "$([[ -e $E2E_DIR/bad.json ]] && echo yes || echo no)" "fetch -o of an invalid feed wrote nothing"
    feed_control "fault=500&target=all"
    run_cli out rc -c "$conf" fetch --force
    check_eq 2 "$rc" "fetch with the service failing exit"
    feed_control "fault=none"
    stop_pid "$FEED_PID" 5
}

# ---- stats against a real c-icap ------------------------------------------------------------------

icap_req() {
    timeout 10 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass "$@" \
        > /dev/null 2>&1 || hard_error "c-icap-client $* failed"
}

phase_stats() {
    local out rc prom
    e2e_log "stats"
    mkdir -p "$E2E_DIR/cache"
    start_cicap "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir $E2E_DIR/cache" "o365bypass.RefreshInterval 0"
    echo "hello" > "$E2E_DIR/body.txt"
    icap_req -req http://outlook.office.com/mail/       # bypass Optimize Exchange
    icap_req -req http://outlook.office.com/            # bypass Optimize Exchange
    icap_req -req http://teams.microsoft.com/           # bypass Allow Skype
    icap_req -req http://www.office.com/                # inspect category
    icap_req -req http://www.example.org/               # inspect not listed
    icap_req -req http://outlook.office.com:8443/       # inspect port
    icap_req -req https://outlook.office.com/owa/       # inspect decrypted (an ssl-bump request)
    icap_req -f "$E2E_DIR/body.txt" -resp http://contoso.sharepoint.com/x  # RESPMOD bypass
    # the children hand their counts to c-icap once a second: wait for them
    local i
    for (( i = 0; i < 50; i++ )); do
        "$O3B_CLI" stats --server "127.0.0.1:$CICAP_PORT" 2>/dev/null \
            | grep -Eq '^ *RESPMOD requests +1$' && break
        sleep 0.1
    done
    run_cli out rc stats --server "127.0.0.1:$CICAP_PORT"
    check_eq 0 "$rc" "stats exit"
    printf '%s\n' "$out" > "$E2E_DIR/stats.txt"
    local label want
    declare -A expect=(
        ["REQMOD requests"]=7 ["RESPMOD requests"]=1 ["bypassed"]=4 ["inspected"]=4
        ["inspected decrypted"]=1
        ["bypassed Optimize"]=3 ["bypassed Allow"]=1 ["bypassed Exchange"]=2
        ["bypassed Skype"]=1 ["bypassed SharePoint"]=1 ["inspected category"]=1
        ["inspected not listed"]=1 ["inspected port not listed"]=1 ["refused malformed"]=0
    )
    for label in "${!expect[@]}"; do
        want=${expect[$label]}
        check_eq "$want" "$(awk -v l="$label" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, "");
            if ($0 == l) print v }' "$E2E_DIR/stats.txt")" "stats: $label"
    done
    check_contains "version=seed" "$out" "stats shows the X-O365bypass-Table header"
    check_eq 1 "$(grep -cE '^module +[0-9]+\.[0-9]+\.[0-9]+$' <<< "$out" || true)" \
        "stats names the running module's version (OPTIONS module=)"
    check_contains "interval=0" "$out" "stats shows the X-O365bypass-Refresh header"

    prom="$E2E_DIR/stats.prom"
    rc=0
    "$O3B_CLI" stats --server "127.0.0.1:$CICAP_PORT" --prometheus > "$prom" || rc=$?
    check_eq 0 "$rc" "stats --prometheus exit"
    declare -A pexpect=(
        ['o365bypass_requests_total{method="REQMOD"}']=7
        ['o365bypass_requests_total{method="RESPMOD"}']=1
        ['o365bypass_decisions_total{verdict="bypass"}']=4
        ['o365bypass_decisions_total{verdict="inspect"}']=4
        ['o365bypass_inspected_total{reason="decrypted"}']=1
        ['o365bypass_bypassed_total{category="Optimize"}']=3
        ['o365bypass_bypassed_total{category="Allow"}']=1
        ['o365bypass_bypassed_by_area_total{area="Exchange"}']=2
        ['o365bypass_bypassed_by_area_total{area="SharePoint"}']=1
        ['o365bypass_inspected_total{reason="not-listed"}']=1
        ['o365bypass_inspected_total{reason="category"}']=1
        ['o365bypass_inspected_total{reason="port"}']=1
        ['o365bypass_refresh_total{outcome="updated"}']=0
        ['o365bypass_table_entries']=333
        ['o365bypass_table_sets']=64
        ['o365bypass_table_fetched_timestamp_seconds']=0
        ['o365bypass_refresh_last_success_timestamp_seconds']=0
    )
    for label in "${!pexpect[@]}"; do
        check_eq "${pexpect[$label]}" "$(awk -v m="$label" '$1 == m { print $2 }' "$prom")" \
            "prometheus: $label"
    done
    check_contains 'o365bypass_table_info{version="seed",tag="seed-' "$(cat "$prom")" \
        "prometheus: table info"
    check_eq 1 "$(grep -cE '^o365bypass_module_info\{version="[0-9.]+"\} 1$' "$prom" || true)" \
        "prometheus: module info"
    check_eq 0 "$(grep -c 'o365bypass_table_loads_total [0-9]' "$prom" >/dev/null; echo $?)" \
        "prometheus: table loads counter present"
    rc=0
    out=$("$SYS_PYTHON" - "$prom" <<'EOF' 2>&1
import re, sys
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? [0-9.eE+-]+$')
seen_help, seen_type, done, errors, current = set(), set(), set(), [], None
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        name = line.split()[2]
        (seen_help if line.startswith("# HELP") else seen_type).add(name)
        if line.startswith("# TYPE") and line.split()[3] not in ("counter", "gauge", "untyped"):
            errors.append("%d: bad type" % n)
        continue
    m = sample.match(line)
    if not m:
        errors.append("%d: not a sample: %r" % (n, line))
        continue
    name = m.group(1)
    if name not in seen_help or name not in seen_type:
        errors.append("%d: %s without HELP and TYPE before it" % (n, name))
    if name != current and name in done:
        errors.append("%d: %s samples not together" % (n, name))
    if current and name != current:
        done.add(current)
    current = name
print("\n".join(errors) or "prometheus text OK (%d families)" % len(seen_type))
sys.exit(1 if errors else 0)
EOF
    ) || rc=$?
    e2e_log "$out"
    check_eq 0 "$rc" "stats --prometheus is valid Prometheus text"
    run_cli out rc stats --server "127.0.0.1:$(free_port)"
    check_eq 2 "$rc" "stats against a closed port exit"
    cicap_stop "$CICAP_PID"
}

# ---- stats against a scripted ICAP server: unknown labels, chunks, timeout ------------

write_fake_icap() {
    cat > "$E2E_DIR/fakeicap.py" <<'PYEOF'
import socket, sys, time
mode = sys.argv[1]
page = ("General Statistics\n==================\nREQUESTS : 9\n\n"
        "o365bypass Statistics\n==================\nREQMOD requests : 7\n"
        "bypassed : 5\nfrobnicated widgets : 3\nbytes seen : 2 Kbs 10 bytes\n\n"
        "Other Statistics\n==================\nREQMOD requests : 99\n")
options = (b"ICAP/1.0 200 OK\r\nISTag: \"x\"\r\nX-O365bypass-Table: version=2025111400; "
           b"tag=2025111400-abcd1234; instance=Worldwide; sets=64; entries=333; "
           b"fetched=1763100000\r\nX-O365bypass-Refresh: interval=3600; "
           b"last-attempt=1763100000; last-success=1763100000; next=1763103600; "
           b"result=updated to 2025111400\r\nEncapsulated: null-body=0\r\n\r\n")
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
srv.settimeout(20)
print("PORT %d" % srv.getsockname()[1], flush=True)
for _ in range(2):  # the info page, then OPTIONS
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    c.settimeout(10)
    data = b""
    while data.count(b"\r\n\r\n") < (2 if data.startswith(b"REQMOD") else 1):
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    if mode == "hang":
        time.sleep(8)
    elif data.startswith(b"REQMOD"):
        http = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        body = page.encode()
        half = len(body) // 2
        chunked = b"%x\r\n%s\r\n%x; ext=1\r\n%s\r\n0\r\n\r\n" % (
            half, body[:half], len(body) - half, body[half:])
        head = (b"ICAP/1.0 200 OK\r\nISTag: \"x\"\r\nEncapsulated: res-hdr=0, res-body=%d\r\n\r\n"
                % len(http))
        msg = head + http + chunked
        for k in range(0, len(msg), 7):  # dribble: the client must reassemble
            c.sendall(msg[k:k + 7])
    else:
        c.sendall(options)
    c.close()
PYEOF
}

phase_stats_fake() {
    local out rc port pid i mode t0
    e2e_log "stats (scripted ICAP server)"
    write_fake_icap
    for mode in ok hang; do
        "$SYS_PYTHON" "$E2E_DIR/fakeicap.py" "$mode" > "$E2E_DIR/fake-$mode.log" 2>&1 &
        pid=$!
        e2e_track_load "$pid"
        port=""
        for (( i = 0; i < 50; i++ )); do
            port=$(awk '/^PORT /{print $2}' "$E2E_DIR/fake-$mode.log")
            [[ -n "$port" ]] && break
            sleep 0.1
        done
        [[ -n "$port" ]] || hard_error "fakeicap.py did not start"
        t0=$SECONDS
        run_cli out rc stats --server "127.0.0.1:$port" --prometheus
        if [[ $mode == ok ]]; then
            check_eq 0 "$rc" "stats against the scripted server exit"
            check_contains 'o365bypass_requests_total{method="REQMOD"} 7' "$out" \
                "stats: the o365bypass section only, reassembled from chunks"
            check_contains '# TYPE o365bypass_frobnicated_widgets untyped' "$out" \
                "stats: an unknown label gets a sanitized family"
            check_contains 'o365bypass_frobnicated_widgets 3' "$out" "stats: unknown label value"
            check_contains 'o365bypass_bytes_seen 2058' "$out" "stats: Kbs values in bytes"
            check_contains 'o365bypass_refresh_last_success_timestamp_seconds 1763100000' \
                "$out" "stats: refresh gauge from OPTIONS"
            check_contains 'o365bypass_table_info{version="2025111400",tag="2025111400-abcd1234",instance="Worldwide"} 1' \
                "$out" "stats: table info from OPTIONS"
        else
            check_eq 2 "$rc" "stats against a server that never answers exit"
            check_contains "timed out" "$out" "stats: the timeout is reported"
            check_eq yes "$( (( SECONDS - t0 <= 8 )) && echo yes || echo no)" \
                "stats: gives up after about 5 s"
        fi
        stop_pid "$pid" 3
    done
}

phase_lookup
phase_show_diff
phase_check_config
phase_fetch
phase_stats
phase_stats_fake
check_done
