#!/bin/bash
# e2e-acl.sh - o365bypass-acl, the Squid helper: the module's decision, no ICAP.
#
# One c-icap runs the built module (CacheDir in the temp dir, group proxy,
# setgid, so Squid's helper user can read what the c-icap master writes;
# ServiceURL = a loopback feedserver.py) and srv_echo, the DLP stand-in.
# Every Squid's configuration is the shipped conf/squid-o365bypass-acl.conf
# with this run's ports and paths (lib.sh, mode fast) plus lib.sh's
# test-only lines (hosts_file, dns_nameservers 127.0.0.1, the lo_dst guard).
# Phases:
#   compare   tests/e2e/acl_driver.py: the hostile corpus's CONNECT rows and
#             every host, pattern instance and prefix of the bundled table
#             on its ports, as CONNECT and as plain http, through the helper
#             (the built binary, our c-icap.conf) and through the module
#             (REQMOD to the real c-icap): OK exactly when the module bypasses;
#   protocol  acl_driver.py again, Squid's protocol through the binary:
#             channel IDs, split and overlong lines, "-" values, 600 lines in
#             one write, EOF inside a line and at a line end (exit 0);
#   squid     through real Squid: Microsoft 365 GET, 200 KiB POST and CONNECT
#             make no ICAP transaction at all (no c-icap access-log line) and
#             reach the origin whole; other destinations go through the chain
#             (module, then the DLP) and reach the origin; Squid logs the
#             helper's notes;
#   update    the feed publishes a table with set 31 (*.sharepoint.com) moved
#             to Default and the c-icap master's refresh writes CacheDir: the
#             running helper logs the new table (no restart of Squid or the
#             helper), a destination not yet cached flips to the chain and the
#             DLP, one cached before the change stays bypassed (answers are up
#             to ttl old);
#   dead      a helper stopped while a lookup waits, then killed, and every
#             replacement dying at once: traffic goes through the chain (the
#             DLP sees other destinations), Squid keeps serving (the shipped
#             children-startup=0), and once helpers start again Squid's new
#             helper bypasses again;
#   naive     the same dead helper under the shape the shipped file avoids,
#             "adaptation_access CHAIN deny o365_lookup": Squid then skips
#             the whole chain - the reason for the shipped shape.
# TLS (ssl_bump splice step1 o365_fast): tests/e2e/e2e-acl-tls.sh.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

BYPASS_HOSTS=(outlook.office.com outlook.office365.com teams.microsoft.com
    login.microsoftonline.com contoso.sharepoint.com)
INSPECT_HOSTS=(www.office.com www.example.org sharepoint.com.example.org evilsharepoint.com
    outlook.office.com.evil.example appcdn.onenote.net)
KINDS=(get post connect)
UPLOAD_BYTES=204800
VERSION_A=2025111400
VERSION_B=2099010100

# lib.sh's log fields, plus 8 = the helper's verdict note, 9 = its reason.
E2E_SQUID_LOGFORMAT="$E2E_SQUID_LOGFORMAT|%{o365bypass_verdict}note|%{o365bypass_reason}note"

e2e_init acl
[[ -x "$O3B_ACL" ]] || hard_error "helper not built: $O3B_ACL"
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
declare -gA STATUS=()

# ---- set-up -----------------------------------------------------------------------------

# The naive shape: the lookup ACL in the chain's own rules (phase naive only).
eval "$(declare -f _squid_write_conf | sed '1s/_squid_write_conf/_lib_squid_write_conf/')"
_squid_write_conf() {
    _lib_squid_write_conf "$@"
    if [[ "${E2E_ACL_NAIVE:-0}" == 1 ]]; then
        sed -i -e '/o365_ask_/d' -e 's/ deny o365_fast$/ deny o365_lookup/' "$1/squid.conf"
    fi
}

start_services() {
    local cache="$E2E_DIR/cache"
    mkdir -p "$cache"
    chgrp proxy "$cache"
    chmod 2750 "$cache"
    start_feed "$VERSION_A" tests/data/worldwide-2025-11-14.json
    start_cicap "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir $cache" "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT" \
        "o365bypass.RefreshInterval 3600" "o365bypass.ConnectTimeout 5" \
        "o365bypass.FetchTimeout 20"
    cicap_service_ok o365bypass || fail "c-icap does not serve o365bypass"
    CACHE_FILE="$cache/endpoints-Worldwide.json"
    cicap_ctl o365bypass_refresh || hard_error "cannot ask c-icap to refresh"
    wait_until 20 test -s "$CACHE_FILE" || hard_error "the first refresh wrote no CacheDir file"
    e2e_log "CacheDir holds version $VERSION_A ($(stat -c '%A %G' "$CACHE_FILE"))"
}

# ---- requests and what saw them ----------------------------------------------------------

# url PHASE HOST KIND: the URL Squid and c-icap log (CONNECT: host:443).
url_of() {
    if [[ "$3" == connect ]]; then echo "$2:443"; else echo "http://$2/e2e/$1/$3"; fi
}

send() {
    local phase=$1 host=$2 kind=$3 out="$E2E_DIR/bodies/$1.$2.$3" code
    case $kind in
        get) code=$(via_squid "$out" "http://$host/e2e/$phase/get") ;;
        post) code=$(via_squid "$out" --data-binary "@$E2E_DIR/upload.bin" \
            "http://$host/e2e/$phase/post") ;;
        connect) code=$(via_squid "$out" -p "http://$host:443/e2e/$phase/connect") ;;
    esac
    STATUS["$phase $host $kind"]=$code
}

# The origin's own answer: the request arrived, whole, at the right place.
check_origin() {
    local phase=$1 host=$2 kind=$3 what="$1 $2 $3" want
    case $kind in
        get) want="host=$host method=GET path=/e2e/$phase/get port=80 bytes=0" ;;
        post) want="host=$host method=POST path=/e2e/$phase/post port=80 bytes=$UPLOAD_BYTES" ;;
        connect) want="host=$host:443 method=GET path=/e2e/$phase/connect port=443 bytes=0" ;;
    esac
    check_eq 200 "${STATUS[$what]}" "$what: HTTP status"
    check_contains "$want" "$(cat "$E2E_DIR/bodies/$1.$2.$3" 2>/dev/null || true)" \
        "$what: the origin's answer"
}

# c-icap access-log lines (any service, any method) naming the URL.
icap_lines_for() { cicap_lines | awk -v u="$1" '$4 == u { n++ } END { print n + 0 }'; }

# The fast path: the helper said bypass and no ICAP service saw the request.
check_fast() {
    local url
    url=$(url_of "$@")
    check_eq 0 "$(icap_lines_for "$url")" "$1 $2 $3: c-icap access-log lines"
    check_eq bypass "$(squid_field "$url" 8)" "$1 $2 $3: the helper's verdict note"
    check_eq - "$(squid_field "$url" 6)" "$1 $2 $3: ICAP transactions Squid logged"
}

# The chain ran: the module saw it (and said inspect), then the DLP.
check_chain() {
    local url what="$1 $2 $3"
    url=$(url_of "$@")
    check_ge 1 "$(module_count REQMOD "$url")" "$what: module REQMOD count"
    check_prefix "inspect; reason=" "$(module_decision REQMOD "$url")" "$what: module decision"
    check_ge 1 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD count"
    [[ "$3" == connect ]] || check_ge 1 "$(dlp_count RESPMOD "$url")" "$what: DLP RESPMOD count"
    check_eq inspect "$(squid_field "$url" 8)" "$what: the helper's verdict note"
}

helper_pids() {
    ps -o pid=,args= --ppid "$SQUID_PID" 2>/dev/null | awk -v b="$O3B_ACL" '$2 == b { print $1 }'
}

# ---- phases -------------------------------------------------------------------------------

phase_compare() {
    local conf="$CICAP_DIR/c-icap.conf" rc=0
    e2e_log "phase compare: helper vs module on the corpus and the real table"
    "$PYTHON3" "$top_srcdir/tests/e2e/acl_driver.py" compare --helper "$O3B_ACL" \
        --config "$conf" --icap-port "$CICAP_PORT" \
        --table "$top_srcdir/module/data/endpoints-worldwide.json" \
        --corpus "$top_srcdir/tests/data/hostile-targets.tsv" > "$E2E_DIR/compare.txt" 2>&1 || rc=$?
    sed 's/^/  /' "$E2E_DIR/compare.txt" >&2
    check_eq 0 "$rc" "compare: helper and module agree (acl_driver.py exit status)"
    e2e_log "phase protocol: Squid's helper protocol through the binary"
    rc=0
    "$PYTHON3" "$top_srcdir/tests/e2e/acl_driver.py" protocol --helper "$O3B_ACL" \
        --config "$conf" > "$E2E_DIR/protocol.txt" 2>&1 || rc=$?
    sed 's/^/  /' "$E2E_DIR/protocol.txt" >&2
    check_eq 0 "$rc" "protocol: acl_driver.py exit status"
}

phase_squid() {
    local host kind code
    e2e_log "phase squid: the fast path through real Squid"
    # with the environment the shipped squid.service drop-in sets
    local heap_env
    heap_env=$(squid_heap_env)
    E2E_SQUID_ENV="$heap_env" start_squid fast
    check_contains "$heap_env" "$(tr '\0' '\n' < "/proc/$SQUID_PID/environ")" \
        "Squid runs with conf/squid-heap.conf's environment"
    log_mark
    for host in "${BYPASS_HOSTS[@]}" "${INSPECT_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do send squid "$host" "$kind"; done
    done
    log_freeze
    for host in "${BYPASS_HOSTS[@]}" "${INSPECT_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do check_origin squid "$host" "$kind"; done
    done
    for host in "${BYPASS_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do check_fast squid "$host" "$kind"; done
    done
    for host in "${INSPECT_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do check_chain squid "$host" "$kind"; done
    done
    check_contains "table $VERSION_A-" "$(grep 'o365bypass-acl\[' "$SQUID_DIR/cache.log" || true)" \
        "the helper logged the CacheDir table to cache.log"
    code=$(curl -sS --max-time 10 --noproxy '' -x "http://127.0.0.1:$SQUID_PORT" -p \
        -o /dev/null -w '%{http_connect}' "http://52.96.1.1:443/e2e/guard" 2>>"$E2E_DIR/curl.log") || true
    check_eq 403 "$code" "loopback guard: CONNECT 52.96.1.1:443 refused by Squid"
}

# A table with set 31 (*.sharepoint.com, Optimize) moved to Default.
write_moved_table() {
    "$PYTHON3" - "$top_srcdir/tests/data/worldwide-2025-11-14.json" "$1" <<'EOF'
import json, sys
sets = json.load(open(sys.argv[1], encoding="utf-8"))
for s in sets:
    if s["id"] == 31:
        s["category"] = "Default"
json.dump(sets, open(sys.argv[2], "w", encoding="utf-8"))
EOF
}

# Does the module (the child answering OPTIONS) serve table VERSION?
module_serves() {
    timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass 2>&1 |
        grep -i 'X-O365bypass-Table' | grep -q "version=$1;"
}

phase_update() {
    local helper_before helper_after
    e2e_log "phase update: a new table followed without restarting Squid or the helper"
    log_mark
    send update contoso-my.sharepoint.com get   # cached as bypass before the change
    helper_before=$(helper_pids | sort | paste -sd' ')
    write_moved_table "$E2E_DIR/moved.json"
    feed_control "version=$VERSION_B&file=$E2E_DIR/moved.json"
    cicap_ctl o365bypass_refresh || fail "cannot ask c-icap to refresh"
    wait_until 20 grep -q "new CacheDir file: table $VERSION_A-[0-9a-f]* -> $VERSION_B-" \
        "$SQUID_DIR/cache.log" || fail "the helper did not log the new table within 20 s"
    wait_until 10 module_serves "$VERSION_B" ||
        fail "the module's children did not load version $VERSION_B"
    sleep 1.5 # the other c-icap child (1 s tick) follows the master too
    send update fabrikam.sharepoint.com get     # a key not cached yet
    send update contoso-my.sharepoint.com post  # POST: the same key as the GET (host 80 - http)
    log_freeze
    helper_after=$(helper_pids | sort | paste -sd' ')
    check_eq "$helper_before" "$helper_after" "update: the same helper process(es) before and after"
    check_origin update contoso-my.sharepoint.com get
    check_origin update fabrikam.sharepoint.com get
    check_origin update contoso-my.sharepoint.com post
    check_fast update contoso-my.sharepoint.com get
    check_fast update contoso-my.sharepoint.com post
    check_chain update fabrikam.sharepoint.com get
    check_prefix "inspect; reason=category; set=31; category=Default" \
        "$(module_decision REQMOD "$(url_of update fabrikam.sharepoint.com get)")" \
        "update: the module inspects set 31 too"
    check_eq category "$(squid_field "$(url_of update fabrikam.sharepoint.com get)" 9)" \
        "update: the helper's reason for the new key"
    squid_stop
}

write_wrapper() {
    cat > "$E2E_DIR/acl-wrapper.sh" <<EOF
#!/bin/sh
# a helper that cannot start while $E2E_DIR/helpers-die exists
[ -e "$E2E_DIR/helpers-die" ] && exit 1
exec "$O3B_ACL" "\$@"
EOF
    chmod 0755 "$E2E_DIR/acl-wrapper.sh"
}

phase_dead() {
    local pids pid curl_pid
    e2e_log "phase dead: helpers killed, replacements dying"
    write_wrapper
    E2E_ACL_HELPER="$E2E_DIR/acl-wrapper.sh" start_squid fast
    log_mark
    send dead outlook.office.com get
    pids=$(helper_pids)
    [[ -n "$pids" ]] || fail "dead: no helper process under Squid $SQUID_PID"
    touch "$E2E_DIR/helpers-die"
    for pid in $pids; do kill -STOP "$pid"; done
    # a lookup for a new key waits in the stopped helper, then it is killed
    via_squid "$E2E_DIR/bodies/dead.teams.microsoft.com.get" "http://teams.microsoft.com/e2e/dead/get" \
        > "$E2E_DIR/dead.teams.code" &
    curl_pid=$!
    e2e_track_load "$curl_pid"
    sleep 1
    for pid in $pids; do kill -KILL "$pid"; done
    wait "$curl_pid" || true
    STATUS["dead teams.microsoft.com get"]=$(cat "$E2E_DIR/dead.teams.code")
    send dead www.example.org get
    send dead login.microsoftonline.com connect
    check_eq yes "$(_pid_alive "$SQUID_PID" && echo yes)" "dead: Squid still runs"
    rm -f "$E2E_DIR/helpers-die"
    send dead outlook.office365.com get          # helpers start again
    log_freeze
    check_origin dead outlook.office.com get
    check_fast dead outlook.office.com get
    check_origin dead teams.microsoft.com get
    check_origin dead www.example.org get
    check_origin dead login.microsoftonline.com connect
    local url
    for url in "$(url_of dead teams.microsoft.com get)" "$(url_of dead login.microsoftonline.com connect)"; do
        check_ge 1 "$(module_count REQMOD "$url")" "dead: $url went through the chain (module)"
        check_eq - "$(squid_field "$url" 8)" "dead: $url got no answer from a helper"
    done
    url=$(url_of dead www.example.org get)
    check_ge 1 "$(dlp_count REQMOD "$url")" "dead: www.example.org reached the DLP (REQMOD)"
    check_ge 1 "$(dlp_count RESPMOD "$url")" "dead: www.example.org reached the DLP (RESPMOD)"
    check_origin dead outlook.office365.com get
    check_fast dead outlook.office365.com get
    check_ge 1 "$(grep -c 'external_acl_type #Hlpr[0-9]* exited' "$SQUID_DIR/cache.log" || true)" \
        "dead: Squid noticed its helper exit"
    pid=$(helper_pids | sed -n '1,1p')
    check_eq yes "$([[ -n "$pid" && " $pids " != *" $pid "* ]] && echo yes)" \
        "dead: Squid runs a new helper (pid ${pid:-none}, killed: $pids)"
    squid_stop
}

phase_naive() {
    local pid url
    e2e_log "phase naive: the lookup ACL in the chain's own rule, helper dead"
    write_wrapper
    E2E_ACL_NAIVE=1 E2E_ACL_HELPER="$E2E_DIR/acl-wrapper.sh" start_squid fast
    log_mark
    send naive www.example.org get              # helper alive: inspected
    touch "$E2E_DIR/helpers-die"
    for pid in $(helper_pids); do kill -KILL "$pid"; done
    send naive evilsharepoint.com get           # helper dead
    rm -f "$E2E_DIR/helpers-die"
    log_freeze
    check_origin naive www.example.org get
    check_origin naive evilsharepoint.com get
    check_ge 1 "$(dlp_count REQMOD "$(url_of naive www.example.org get)")" \
        "naive: with a helper, www.example.org reaches the DLP"
    url=$(url_of naive evilsharepoint.com get)
    check_eq 0 "$(icap_lines_for "$url")" \
        "naive: with the helper dead, Squid skipped the whole chain for $url"
    squid_stop
}

main() {
    mkdir -p "$E2E_DIR/bodies"
    head -c "$UPLOAD_BYTES" /dev/urandom > "$E2E_DIR/upload.bin"
    start_origin "${E2E_ORIGIN_ADDR:-auto}" 80 443
    start_services
    phase_compare
    phase_squid
    phase_update
    phase_dead
    phase_naive
    check_done
}

main "$@"
