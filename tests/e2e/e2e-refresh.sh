#!/bin/bash
# e2e-refresh.sh - live refresh inside a real c-icap: master fetches, every
# child follows, requests never stop.
#
# A loopback feedserver.py plays Microsoft's web service; c-icap runs the
# built module with 3 children (StartServers = MaxServers = 3, so c-icap
# never starts or stops one on its own), CacheDir in the temp dir and
# ServiceURL pointing at the feed.  Phases:
#   auto      no command at all: the master's scheduled tick makes the first
#             refresh ~10 s after start (version A = worldwide-2025-11-14 as
#             2025111400) and every child picks it up by polling the
#             generation counter (1 s tick);
#   command   the feed switches to version B (the later NoIPv6 file as
#             2025112000), a concurrent icapload loop (get + connect to
#             Microsoft and other hosts, several connections) runs while
#             `o365bypass_refresh` is written to the CommandsSocket: within
#             10 s every child answers with version B and inspects what B no
#             longer lists, no child was restarted, the load saw no error;
#   counters  the info service sums "refresh updated" and "table loads";
#   faults    HTTP 500 and invalid JSON: every child keeps version B, c-icap
#             keeps answering, "refresh failed" / "refresh refused invalid"
#             grow, the cache file is unchanged;
#   accept    a 3-set table is held back by the shrink guard (pending file,
#             children keep B) until `o365bypass_accept` puts it in every
#             child;
#   reload    `o365bypass_reload`: every child logs its reload;
#   restart   c-icap restarted over a corrupt cache file: it starts, logs the
#             skip and serves the seed.
# Which child answers is learnt from OPTIONS: X-O365bypass-Table carries
# "pid=N".  A small Python ICAP client opens connections one after the other
# and keeps each open (a c-icap thread stays with its keep-alive connection),
# so once a child's threads are all taken the next connection lands in
# another child: a round reaches every child, then asks each one its table
# version and its decision for CONNECT targets over that same connection.
#
# Timings of each phase are printed (E2E_KEEP=1 keeps the temp dir).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

VERSION_A=2025111400
VERSION_B=2025112000
VERSION_C=2025120100   # a hand-made 3-set table: the shrink guard holds it back
FILE_A=tests/data/worldwide-2025-11-14.json
FILE_B=tests/data/worldwide-noipv6-post-2025-11-14.json
CHILDREN=3
THREADS_PER_CHILD=8
# set 1 (Optimize, 2603:1006::/40): in A, gone from B (NoIPv6)
TARGET_V6='[2603:1006::1]:443'
# set 33 (Default, *.search.production.us.trafficmanager.net): in A, gone from B
TARGET_SET33='x.search.production.us.trafficmanager.net:443'
LOAD_HOSTS='outlook.office365.com,[2603:1006::1],x.search.production.us.trafficmanager.net,www.example.org,contoso.sharepoint.com,login.microsoftonline.com,teams.microsoft.com,evilsharepoint.com'

e2e_init refresh
T_START=$SECONDS

# seconds (2 decimals) since an $EPOCHREALTIME value
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

phase() {
    local now=$SECONDS
    [[ -n "${PHASE_NAME:-}" ]] && e2e_log "phase $PHASE_NAME took $(( now - PHASE_T0 )) s"
    PHASE_NAME=$1
    PHASE_T0=$now
    e2e_log "---- phase $1"
}





# ---- helpers: c-icap ------------------------------------------------------------

module_lines() {
    fixed_children "$CHILDREN" "$THREADS_PER_CHILD"
    CICAP_EXTRA=(
        "${FIXED_CHILDREN[@]}"
        "Service o365bypass $O3B_MODULE"
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json"
        "o365bypass.CacheDir $E2E_DIR/cache"
        "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT"
        "o365bypass.RefreshInterval 3600"
        "o365bypass.ConnectTimeout 2"
        "o365bypass.FetchTimeout 5"
        "o365bypass.BypassCategories Optimize Allow Default"
    )
}

info_page() { cicap_info_page; }
counter() { cicap_counter "$1"; }
child_pids() { cicap_child_pids; }

# probe: every child's "pid version target=decision..." into PROBE_OUT.
probe() {
    icap_probe_children "$PIDS" $(( CHILDREN * THREADS_PER_CHILD - 4 )) "$TARGET_V6" \
        "$TARGET_SET33"
}

# all_children_at VERSION: did the last probe reach every child, all at VERSION?
all_children_at() { probe_all_at "$PIDS" "$1"; }

# One probe can miss a child (c-icap may queue a connection in a child whose
# threads are all held, which ends that probe): callers retry with wait_until.
probe_until_version() { probe; all_children_at "$1"; }

# check_decisions V6_DECISION SET33_DECISION WHAT: from the last probe.
check_decisions() {
    local pid line
    for pid in ${PIDS//,/ }; do
        line=$(awk -v p="$pid" '$1 == p' <<< "$PROBE_OUT")
        check_contains "$TARGET_V6=$1" "$line" "$3: child $pid, CONNECT $TARGET_V6"
        check_contains "$TARGET_SET33=$2" "$line" "$3: child $pid, CONNECT $TARGET_SET33"
    done
}

# wait_log_per_child PATTERN SECONDS: every child pid has a log line
# containing PATTERN and "in pid <pid>" after line LOG_MARK.
_log_per_child() {
    local pid
    for pid in ${PIDS//,/ }; do
        tail -n "+$(( LOG_MARK + 1 ))" "$CICAP_SERVER_LOG" \
            | grep -F -- "$1" | grep -qF "in pid $pid (" || return 1
    done
}
log_mark_server() { LOG_MARK=$(wc -l < "$CICAP_SERVER_LOG"); }

_counter_at_least() { (( $(counter "$1") >= $2 )); }

icapload_binary() {
    local built="$top_builddir/tests/bench/icapload"
    if [[ -x "$built" ]]; then
        ICAPLOAD=$built
        return 0
    fi
    ICAPLOAD="$E2E_DIR/icapload"
    ${CC:-cc} -std=c11 -O2 -pthread -o "$ICAPLOAD" "$top_srcdir/tests/bench/icapload.c" \
        2> "$E2E_DIR/icapload-build.log" || hard_error "cannot build tests/bench/icapload.c"
}

# ---- set-up ------------------------------------------------------------------------

[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
command -v "${CC:-cc}" > /dev/null || [[ -x "$top_builddir/tests/bench/icapload" ]] \
    || skip "no C compiler for tests/bench/icapload.c"
mkdir -p "$E2E_DIR/cache"
icapload_binary
start_feed "$VERSION_A" "$FILE_A"
module_lines
start_cicap "${CICAP_EXTRA[@]}"
T_CICAP=$EPOCHREALTIME
wait_until 10 eval '[[ $(child_pids | tr , "\n" | grep -c .) -eq $CHILDREN ]]' \
    || fail "c-icap did not start $CHILDREN children: $(child_pids)"
PIDS=$(child_pids)
PIDS_AT_START=$PIDS
e2e_log "children: $PIDS"

# ---- auto: the scheduled first refresh, followed by polling ------------------------

phase auto
log_mark_server
wait_until 10 probe_until_version seed || true
check_eq "$CHILDREN" "$(grep -c . <<< "$PROBE_OUT")" "probe reaches every child at start"
all_children_at seed || fail "children do not start with the seed: $PROBE_OUT"
check_decisions bypass bypass "seed"
# first refresh is due 10 s after start, the master ticks every 5 s
wait_until 25 probe_until_version "$VERSION_A" \
    || fail "no automatic refresh to $VERSION_A in every child: $PROBE_OUT"
e2e_log "every child at $VERSION_A $(since "$T_CICAP") s after c-icap was ready (no command sent)"
check_decisions bypass bypass "version A"
check_eq 1 "$(feed_calls endpoints)" "/endpoints calls for the first refresh"
wait_until 5 _log_per_child "new table from the master: table $VERSION_A-" \
    || check_eq "every child" "not all" "log 'new table from the master' per child"
check_eq 1 "$(grep -c "refresh: table $VERSION_A-" "$CICAP_SERVER_LOG")" \
    "the master logs one refresh to $VERSION_A"

# ---- command: version B under load ----------------------------------------------------

phase command
feed_control "version=$VERSION_B&file=$FILE_B"
log_mark_server
timeout 30 "$ICAPLOAD" -u "icap://127.0.0.1:$CICAP_PORT/o365bypass" -c 6 -d 8 -n 50000000 -t 5 \
    -k get,connect -H "$LOAD_HOSTS" -x X-O365bypass-Decision \
    > "$E2E_DIR/icapload.out" 2> "$E2E_DIR/icapload.err" &
LOAD_PID=$!
e2e_track_load "$LOAD_PID"
sleep 1
T_CMD=$EPOCHREALTIME
cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
wait_until 10 probe_until_version "$VERSION_B" \
    || fail "not every child at $VERSION_B within 10 s: $PROBE_OUT"
e2e_log "every child at $VERSION_B $(since "$T_CMD") s after the command"
check_decisions inspect inspect "version B"
wait_until 5 _log_per_child "table $VERSION_B-" \
    || check_eq "every child" "not all" "log 'table $VERSION_B in use' per child"
# the load loop ends by itself after 8 s (and `timeout` bounds it anyway)
LOAD_RC=0
wait "$LOAD_PID" || LOAD_RC=$?
LOAD_LINE=$(grep '^requests=' "$E2E_DIR/icapload.out" || true)
e2e_log "load: $LOAD_LINE"
check_eq 0 "$LOAD_RC" "icapload exit status"
check_contains " errors=0 " "$LOAD_LINE" "icapload errors"
LOAD_REQUESTS=$(grep -o '^requests=[0-9]*' <<< "$LOAD_LINE" | cut -d= -f2)
check_ge 1000 "${LOAD_REQUESTS:-0}" "icapload requests during the swap"
check_contains "x_count=${LOAD_REQUESTS:-?}" "$LOAD_LINE" "every load answer carries a decision"
check_eq "$PIDS_AT_START" "$(child_pids)" "children not restarted by the swap"

# ---- counters ------------------------------------------------------------------------

phase counters
wait_until 5 _counter_at_least "refresh updated" 2 || true
wait_until 5 _counter_at_least "table loads" $(( 2 * CHILDREN )) || true
check_ge 2 "$(counter "refresh updated")" "counter 'refresh updated'"
check_ge "$(( 2 * CHILDREN ))" "$(counter "table loads")" "counter 'table loads'"
check_eq 0 "$(counter "table load failures")" "counter 'table load failures'"

# ---- faults: the table in use stays -------------------------------------------------------

phase faults
cp "$E2E_DIR/cache/endpoints-Worldwide.json" "$E2E_DIR/cache-before-faults.json"
FAILED_BEFORE=$(counter "refresh failed")
feed_control "fault=500"
cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
wait_until 5 _counter_at_least "refresh failed" $(( FAILED_BEFORE + 1 )) \
    || check_eq "$(( FAILED_BEFORE + 1 ))" "$(counter "refresh failed")" "'refresh failed' after 500"
wait_until 10 probe_until_version "$VERSION_B" || check_eq "$VERSION_B" "$PROBE_OUT" "children after HTTP 500"
INVALID_BEFORE=$(counter "refresh refused invalid")
feed_control "version=2025113000&fault=invalid-json&target=endpoints"
cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
wait_until 5 _counter_at_least "refresh refused invalid" $(( INVALID_BEFORE + 1 )) \
    || check_eq "$(( INVALID_BEFORE + 1 ))" "$(counter "refresh refused invalid")" \
        "'refresh refused invalid' after invalid JSON"
wait_until 10 probe_until_version "$VERSION_B" || check_eq "$VERSION_B" "$PROBE_OUT" "children after invalid JSON"
check_decisions inspect inspect "after the faults"
cmp -s "$E2E_DIR/cache/endpoints-Worldwide.json" "$E2E_DIR/cache-before-faults.json" \
    && check_eq same same "cache file" || check_eq same changed "cache file after the faults"
check_eq "$PIDS_AT_START" "$(child_pids)" "children not restarted by the faults"

# ---- shrink guard, then o365bypass_accept ----------------------------------------------

phase accept
# 3 sets, 3 entries (B has 250): far beyond MaxShrinkPercent 50
cat > "$E2E_DIR/small.json" <<'EOF'
[{"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com"], "tcpPorts": "443",
  "category": "Optimize", "required": true},
 {"id": 33, "serviceArea": "SharePoint", "urls": ["*.search.production.us.trafficmanager.net"],
  "tcpPorts": "443", "category": "Default", "required": true},
 {"id": 56, "serviceArea": "Common", "ips": ["2603:1006::/40"], "tcpPorts": "443",
  "category": "Allow", "required": true}]
EOF
SHRINK_BEFORE=$(counter "refresh refused shrink guard")
ACCEPTED_BEFORE=$(counter "refresh accepted")
feed_control "fault=none&version=$VERSION_C&file=$E2E_DIR/small.json"
cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
wait_until 5 _counter_at_least "refresh refused shrink guard" $(( SHRINK_BEFORE + 1 )) \
    || check_eq "$(( SHRINK_BEFORE + 1 ))" "$(counter "refresh refused shrink guard")" \
        "'refresh refused shrink guard' after a 250 -> 3 entries table"
[[ -f "$E2E_DIR/cache/endpoints-Worldwide.pending.json" ]] \
    && check_eq pending pending "pending file" || check_eq pending none "pending file written"
wait_until 10 probe_until_version "$VERSION_B" || check_eq "$VERSION_B" "$PROBE_OUT" "children keep B while held back"
cicap_ctl o365bypass_accept || fail "cannot write o365bypass_accept"
wait_until 5 probe_until_version "$VERSION_C" \
    || check_eq "$VERSION_C" "$PROBE_OUT" "every child at the accepted $VERSION_C"
check_decisions bypass bypass "accepted small table"
wait_until 5 _counter_at_least "refresh accepted" $(( ACCEPTED_BEFORE + 1 )) \
    || check_eq "$(( ACCEPTED_BEFORE + 1 ))" "$(counter "refresh accepted")" "'refresh accepted'"
check_eq "$PIDS_AT_START" "$(child_pids)" "children not restarted by accept"

# ---- reload ---------------------------------------------------------------------------

phase reload
log_mark_server
cicap_ctl o365bypass_reload || fail "cannot write o365bypass_reload"
wait_until 5 _log_per_child "reload command: table $VERSION_C-" \
    || check_eq "every child" "not all" "log 'reload command' per child"
wait_until 10 probe_until_version "$VERSION_C" || check_eq "$VERSION_C" "$PROBE_OUT" "children after reload"

# ---- restart over a corrupt cache file --------------------------------------------------

phase restart
feed_control "fault=500"   # nothing new may arrive while we look
cicap_stop "$CICAP_PID"
printf '{"o365bypass": 1, "endpoints": [{"id": ' > "$E2E_DIR/cache/endpoints-Worldwide.json"
start_cicap "${CICAP_EXTRA[@]}"
wait_until 10 eval '[[ $(child_pids | tr , "\n" | grep -c .) -eq $CHILDREN ]]' \
    || fail "restarted c-icap did not start $CHILDREN children"
PIDS=$(child_pids)
check_contains "cache file skipped" "$(cat "$CICAP_SERVER_LOG")" "start-up log names the skip"
wait_until 10 probe_until_version seed || check_eq seed "$PROBE_OUT" "children serve the seed after the restart"
check_decisions bypass bypass "seed after restart"

phase done
e2e_log "total $(( SECONDS - T_START )) s"
check_done
