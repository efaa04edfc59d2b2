#!/bin/bash
# SPDX-License-Identifier: MIT
# soak.sh - sustained ICAP load on a real c-icap while the endpoint table is
# swapped every second: no failed request, no wrong answer, every swap seen
# by every child, resident memory flat.
#
# c-icap runs the built module with 2 children x 16 threads, and c-icap is
# told never to add, retire or recycle a child (StartServers = MaxServers,
# MaxRequestsPerChild 0), so the pids sampled at the start are the ones that
# serve until the end; a change in the child set is reported (and fails the
# run: with these settings only a crash replaces a child).  The table comes
# from CacheDir (RefreshInterval 0: nothing is fetched).
#
# Load: tests/bench/icapload, persistent loopback connections, a mix of
# get/post/connect/respmod, as two streams whose answers are checked:
#   A  hosts bypassed by BOTH real Worldwide versions used below: every
#      answer must carry X-Next-Services and a "bypass" decision;
#   B  hosts inspected by both: no answer may carry X-Next-Services, every
#      one must carry an "inspect" decision.
# Each stream holds SOAK_CONNECTIONS connections (default 10): 20 in all,
# more than one child's 16 threads, so both children serve load (a c-icap
# child otherwise happily accepts every connection itself); the sockets each
# child holds at mid-run are counted to show it.  c-icap closes a keep-alive
# connection after MaxKeepAliveRequests (default 100) requests, as it does
# with Squid's; icapload reconnects ("connects" in the figures).  icapload runs at most
# 120 s, so each stream is a loop of runs ("chunks") until SOAK_SECONDS are
# over.
#
# Swaps: every second CacheDir/endpoints-Worldwide.json is replaced (temp
# file + mv, as the module writes it) by the other of two versions
# (worldwide-2025-11-14 as 2025111400 and worldwide-noipv6-post-2025-11-14 as
# 2025112000, in the cache wrapper so the log names the version), then
# o365bypass_reload is written to the CommandsSocket.  Every child logs
# "reload command: table VERSION-HASH in use in pid N" per swap.
#
# Memory: VmRSS of every child (and of the master, for information) once a
# second.  Per child, the median of the first 10% of the samples taken
# after a WARMUP_S warm-up is compared with the median of the last 10%; the
# growth must stay below RSS_MAX_GROWTH_KB (default 1024 kB).  Why 1 MiB,
# from measurements on this module (a child is ~5 MB resident):
#   - healthy: glibc's heap settles over the first ~200 reloads (alternating
#     tables of 333 and 250 entries) and then stays flat; the growth seen
#     in 60 s runs is 50-150 kB, in the master (reloads only) as well;
#   - one leaked table costs ~70 kB resident (measured with the snapshot's
#     free removed: +1.6 MB per child over 23 swaps), so a table leaked per
#     swap crosses 1 MiB after ~15 swaps;
#   - a child serves ~1 million requests a minute here, so a leak of one
#     byte per request crosses it within the default 60 s.
# The RSS window needs time: SOAK_SECONDS is at least 20.
#
# Environment: SOAK_SECONDS (default 60, 20..600), SOAK_CONNECTIONS
# (per stream, default 10, at most 15), RSS_MAX_GROWTH_KB, E2E_KEEP=1 (keep
# the temp dir), plus what lib.sh reads.  Prints a table of figures at the
# end.  Needs what lib.sh's e2e_init needs (root, Squid installed) although
# it starts no Squid.  `make soak` runs it; it is not part of `make check`.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-10}
RSS_MAX_GROWTH_KB=${RSS_MAX_GROWTH_KB:-1024}
WARMUP_S=5
CHILDREN=2
THREADS_PER_CHILD=16
CHUNK_MAX_S=120              # icapload's -d limit
CHUNK_MAX_REQUESTS=20000000  # bounds icapload's latency store (4 bytes each)
VERSION_A=2025111400
VERSION_B=2025112000
FILE_A=tests/data/worldwide-2025-11-14.json
FILE_B=tests/data/worldwide-noipv6-post-2025-11-14.json
KINDS=get,post,connect,respmod
# bypassed in both versions (sets 1, 31, 12, 56: Optimize/Allow, TCP 80,443)
HOSTS_A='outlook.office.com,contoso.sharepoint.com/sites/x/Shared%20Documents/a.docx,teams.microsoft.com,login.microsoftonline.com/common/oauth2/v2.0/token,outlook.office365.com/owa/,contoso-my.sharepoint.com'
# inspected in both: not listed, a Default-category set, look-alikes
HOSTS_B='www.example.org,www.office.com,evilsharepoint.com,sharepoint.com.example.org/x,outlook.office.com.evil.example'

if ! [[ "$SOAK_SECONDS" =~ ^[0-9]+$ ]] || (( SOAK_SECONDS < 20 || SOAK_SECONDS > 600 )); then
    echo "soak.sh: SOAK_SECONDS must be 20..600 (got '$SOAK_SECONDS')" >&2
    exit 2
fi
# 2 x 15 connections fit the 32 threads; more would wait unaccepted
if ! [[ "$SOAK_CONNECTIONS" =~ ^[0-9]+$ ]] || (( SOAK_CONNECTIONS < 1 || SOAK_CONNECTIONS > 15 )); then
    echo "soak.sh: SOAK_CONNECTIONS must be 1..15 (got '$SOAK_CONNECTIONS')" >&2
    exit 2
fi

# c-icap writes one access-log line per request: at ~40k req/s for minutes
# that is gigabytes, so the soak runs without one.
E2E_CICAP_ACCESS_LOG=none
e2e_init soak

# ---- helpers ------------------------------------------------------------------

icapload_binary() {
    local built="$top_builddir/tests/bench/icapload"
    if [[ -x "$built" ]]; then
        ICAPLOAD=$built
        return 0
    fi
    ICAPLOAD="$E2E_DIR/icapload"
    ${CC:-cc} -std=c11 -O2 -pthread -D_GNU_SOURCE -o "$ICAPLOAD" \
        "$top_srcdir/tests/bench/icapload.c" 2> "$E2E_DIR/icapload-build.log" \
        || hard_error "cannot build tests/bench/icapload.c"
}

# wrap_table SRC VERSION OUT: the raw JSON in the CacheDir wrapper
# (include/o365bypass/store.h), body embedded byte for byte.
wrap_table() {
    {
        printf '{"o365bypass": 1, "instance": "Worldwide", "version": "%s", ' "$2"
        printf '"fetched": %s, "source": "soak.sh", "endpoints": ' "$(date +%s)"
        cat "$top_srcdir/$1"
        printf '}\n'
    } > "$3"
}

# install_table VERSION: CacheDir's current file becomes that version,
# atomically (temp file in the same directory, then rename).
install_table() {
    cp "$E2E_DIR/tables/$1.json" "$E2E_DIR/cache/.soak-tmp.json"
    mv -f "$E2E_DIR/cache/.soak-tmp.json" "$E2E_DIR/cache/endpoints-Worldwide.json"
}

children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | sort -n | paste -sd' ' - || true; }

rss_kb() { awk '$1 == "VmRSS:" { print $2; exit }' "/proc/$1/status" 2>/dev/null || true; }

# How many sockets PID holds (its listening socket included).
sockets_of() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l || true; }

# run_stream NAME END_EPOCH ICAPLOAD_ARGS...: icapload chunks of at most
# CHUNK_MAX_S until END_EPOCH; chunk I writes NAME.I.json / .err / .rc.
# Runs in a background subshell: TERM stops the current chunk too.
run_stream() {
    local name=$1 end=$2 i=0 left child=""
    shift 2
    trap '[[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null; exit 143' TERM
    while left=$(( end - $(date +%s) )); (( left > 0 )); do
        (( left > CHUNK_MAX_S )) && left=$CHUNK_MAX_S
        i=$(( i + 1 ))
        "$ICAPLOAD" "$@" -d "$left" -n "$CHUNK_MAX_REQUESTS" -t 10 -j \
            > "$E2E_DIR/load/$name.$i.json" 2> "$E2E_DIR/load/$name.$i.err" &
        child=$!
        local rc=0
        wait "$child" || rc=$?
        child=""
        echo "$rc" > "$E2E_DIR/load/$name.$i.rc"
    done
}

# json_field FILE KEY: a number or string from icapload's one-line JSON.
json_field() {
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1" | head -n 1
}

# median of the numbers on stdin (one per line); empty input prints nothing
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# ---- set-up -------------------------------------------------------------------

[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
command -v "${CC:-cc}" > /dev/null || [[ -x "$top_builddir/tests/bench/icapload" ]] \
    || skip "no C compiler for tests/bench/icapload.c"
icapload_binary
mkdir -p "$E2E_DIR/cache" "$E2E_DIR/tables" "$E2E_DIR/load"
wrap_table "$FILE_A" "$VERSION_A" "$E2E_DIR/tables/$VERSION_A.json"
wrap_table "$FILE_B" "$VERSION_B" "$E2E_DIR/tables/$VERSION_B.json"
install_table "$VERSION_A"

fixed_children "$CHILDREN" "$THREADS_PER_CHILD"
start_cicap "${FIXED_CHILDREN[@]}" \
    "MaxRequestsPerChild 0" \
    "Service o365bypass $O3B_MODULE" \
    "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
    "o365bypass.CacheDir $E2E_DIR/cache" \
    "o365bypass.RefreshInterval 0" \
    "o365bypass.BypassCategories Optimize Allow"
cicap_service_ok o365bypass || fail "o365bypass does not answer OPTIONS"

_children_ready() { [[ $(wc -w <<< "$(children_of "$CICAP_PID")") -eq $CHILDREN ]]; }
wait_until 10 _children_ready || fail "c-icap did not start $CHILDREN children: $(children_of "$CICAP_PID")"
PIDS=$(children_of "$CICAP_PID")
declare -A CHILD_START=() SOCKETS_IDLE=() CONNS_MID=()
for pid in $PIDS; do
    CHILD_START[$pid]=$(_proc_state_start "$pid" | cut -d' ' -f2)
    SOCKETS_IDLE[$pid]=$(sockets_of "$pid")
done
grep -q "start-up table from .*version $VERSION_A" "$CICAP_SERVER_LOG" \
    || fail "c-icap did not start with version $VERSION_A from CacheDir"
e2e_log "children: $PIDS; load ${SOAK_CONNECTIONS}+${SOAK_CONNECTIONS} connections for ${SOAK_SECONDS}s"

# ---- the soak -----------------------------------------------------------------

LOG_MARK=$(wc -l < "$CICAP_SERVER_LOG")
T0=$EPOCHREALTIME
END=$(( ${T0%.*} + SOAK_SECONDS ))
COMMON=(-u "icap://127.0.0.1:$CICAP_PORT/o365bypass" -c "$SOAK_CONNECTIONS" -k "$KINDS"
    -x X-Next-Services)
( run_stream A "$END" "${COMMON[@]}" -H "$HOSTS_A" -X 'X-O365bypass-Decision: bypass' ) &
STREAM_A=$!
e2e_track_load "$STREAM_A"
( run_stream B "$END" "${COMMON[@]}" -H "$HOSTS_B" -X 'X-O365bypass-Decision: inspect' ) &
STREAM_B=$!
e2e_track_load "$STREAM_B"

: > "$E2E_DIR/rss.tsv"       # second pid rss_kb (pid "master" for the master)
: > "$E2E_DIR/respawns.log"
SWAPS_SENT=0
SWAP_WRITE_FAILURES=0
LAST_VERSION=$VERSION_A
next=$VERSION_B
for (( tick = 1; tick <= SOAK_SECONDS + 1; tick++ )); do
    # sleep until T0 + tick seconds (a fixed schedule, whatever the body cost)
    wait_s=$(awk -v t0="$T0" -v k="$tick" -v now="$EPOCHREALTIME" \
        'BEGIN { w = t0 + k - now; printf "%.3f", (w > 0 ? w : 0) }')
    sleep "$wait_s"
    for pid in $PIDS; do
        echo "$tick $pid $(rss_kb "$pid")" >> "$E2E_DIR/rss.tsv"
    done
    echo "$tick master $(rss_kb "$CICAP_PID")" >> "$E2E_DIR/rss.tsv"
    now_children=$(children_of "$CICAP_PID")
    [[ "$now_children" == "$PIDS" ]] \
        || echo "second $tick: children '$now_children' (expected '$PIDS')" >> "$E2E_DIR/respawns.log"
    if (( tick == SOAK_SECONDS / 2 )); then
        for pid in $PIDS; do
            CONNS_MID[$pid]=$(( $(sockets_of "$pid") - SOCKETS_IDLE[$pid] ))
        done
    fi
    if (( tick > SOAK_SECONDS )); then break; fi
    install_table "$next"
    LAST_VERSION=$next
    if cicap_ctl o365bypass_reload; then
        SWAPS_SENT=$(( SWAPS_SENT + 1 ))
    else
        SWAP_WRITE_FAILURES=$(( SWAP_WRITE_FAILURES + 1 ))
    fi
    [[ "$next" == "$VERSION_A" ]] && next=$VERSION_B || next=$VERSION_A
done

STREAMS_RC=0
wait "$STREAM_A" || STREAMS_RC=$?
wait "$STREAM_B" || STREAMS_RC=$?
# the last swap reaches every child within ~1 s (2 s if c-icap dropped it)
_children_at_last() {
    local pid
    for pid in $PIDS; do
        tail -n "+$(( LOG_MARK + 1 ))" "$CICAP_SERVER_LOG" | grep -F "in use in pid $pid (" \
            | tail -n 1 | grep -qF ": table $LAST_VERSION-" || return 1
    done
}
wait_until 5 _children_at_last || true
logs_settle "$CICAP_SERVER_LOG"
e2e_log "soak over after $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"

# ---- figures ------------------------------------------------------------------

# per stream: requests errors seconds x_count match_count max_p50 max_p99 chunks bad_rc
declare -A ST=()
stream_figures() {
    local name=$1 f req=0 err=0 sec=0 xc=0 mc=0 p50=0 p99=0 chunks=0 bad=0 v rc
    for f in "$E2E_DIR/load/$name".*.json; do
        [[ -e "$f" ]] || continue
        chunks=$(( chunks + 1 ))
        rc=$(cat "${f%.json}.rc" 2>/dev/null || echo missing)
        [[ "$rc" == 0 ]] || bad=$(( bad + 1 ))
        v=$(json_field "$f" requests); req=$(( req + ${v:-0} ))
        v=$(json_field "$f" errors); err=$(( err + ${v:-0} ))
        v=$(json_field "$f" seconds); sec=$(awk -v a="$sec" -v b="${v:-0}" 'BEGIN { print a + b }')
        v=$(json_field "$f" x_count); xc=$(( xc + ${v:-0} ))
        v=$(json_field "$f" match_count); mc=$(( mc + ${v:-0} ))
        v=$(json_field "$f" p50_us); (( ${v:-0} > p50 )) && p50=$v
        v=$(json_field "$f" p99_us); (( ${v:-0} > p99 )) && p99=$v
        printf '  %-6s chunk %-2d %10s req %9.3f s %8s req/s  p50 %6s us  p99 %6s us  errors %s  X-Next-Services %s  decision %s  connects %s  exit %s\n' \
            "$name" "$chunks" "$(json_field "$f" requests)" "$(json_field "$f" seconds)" \
            "$(json_field "$f" rps)" "$(json_field "$f" p50_us)" "$(json_field "$f" p99_us)" \
            "$(json_field "$f" errors)" "$(json_field "$f" x_count)" \
            "$(json_field "$f" match_count)" "$(json_field "$f" connects)" "$rc" \
            >> "$E2E_DIR/figures.chunks"
    done
    ST[$name]="$req $err $sec $xc $mc $p50 $p99 $chunks $bad"
}
: > "$E2E_DIR/figures.chunks"
stream_figures A
stream_figures B
read -r REQ_A ERR_A SEC_A XC_A MC_A P50_A P99_A CHUNKS_A BAD_A <<< "${ST[A]}"
read -r REQ_B ERR_B SEC_B XC_B MC_B P50_B P99_B CHUNKS_B BAD_B <<< "${ST[B]}"

# Swaps seen per process: "reload command" lines, plus "new table from the
# master" lines - the child's 1 s generation tick catching up when c-icap
# dropped a command: it forwards commands to a child through a pipe without
# framing, and two that reach a busy child together read as one unknown
# command.  Also which versions each logged, and the last one.
table_lines() {
    tail -n "+$(( LOG_MARK + 1 ))" "$CICAP_SERVER_LOG" \
        | grep -E "(reload command|new table from the master): table " \
        | grep -F "in use in pid $1 (" || true
}
declare -A SWAPS=() CATCHUPS=() TAGS=() LAST_TAG=()
for pid in $PIDS $CICAP_PID; do
    lines=$(table_lines "$pid")
    SWAPS[$pid]=$(grep -c 'reload command' <<< "$lines" || true)
    CATCHUPS[$pid]=$(grep -c 'new table from the master' <<< "$lines" || true)
    TAGS[$pid]=$(grep -o ': table [^ ]*' <<< "$lines" | awk '{ print $3 }' | sort | uniq -c \
        | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
    LAST_TAG[$pid]=$(tail -n 1 <<< "$lines" | grep -o ': table [^ ]*' | awk '{ print $3 }')
done
RELOAD_ERRORS=$(tail -n "+$(( LOG_MARK + 1 ))" "$CICAP_SERVER_LOG" \
    | grep -cE 'table not reloaded|not published' || true)

# RSS per child: median of the first and of the last 10% after the warm-up
declare -A RSS_START=() RSS_END=() RSS_N=() RSS_MIN=() RSS_MAX=()
rss_figures() {
    local who=$1 samples n k
    samples=$(awk -v p="$who" -v w="$WARMUP_S" '$2 == p && $1 > w && $3 != "" { print $3 }' \
        "$E2E_DIR/rss.tsv")
    n=$(grep -c . <<< "$samples" || true)
    RSS_N[$who]=$n
    (( n >= 3 )) || { RSS_START[$who]=""; RSS_END[$who]=""; return 0; }
    k=$(( (n + 9) / 10 ))
    (( k < 3 )) && k=3
    RSS_START[$who]=$(head -n "$k" <<< "$samples" | median)
    RSS_END[$who]=$(tail -n "$k" <<< "$samples" | median)
    RSS_MIN[$who]=$(sort -n <<< "$samples" | head -n 1)
    RSS_MAX[$who]=$(sort -n <<< "$samples" | tail -n 1)
}
for pid in $PIDS master; do rss_figures "$pid"; done

rate() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }'; }
{
    echo
    echo "==== soak: ${SOAK_SECONDS} s, c-icap $CHILDREN children x $THREADS_PER_CHILD threads," \
        "icapload ${SOAK_CONNECTIONS}+${SOAK_CONNECTIONS} connections ($KINDS)"
    cat "$E2E_DIR/figures.chunks"
    printf '%-8s %11s %9s %10s %10s %7s %16s %16s\n' stream requests req/s 'p50 us*' 'p99 us*' \
        errors X-Next-Services decision
    printf '%-8s %11s %9s %10s %10s %7s %16s %16s\n' "A bypass" "$REQ_A" "$(rate "$REQ_A" "$SEC_A")" \
        "$P50_A" "$P99_A" "$ERR_A" "$XC_A" "$MC_A"
    printf '%-8s %11s %9s %10s %10s %7s %16s %16s\n' "B insp." "$REQ_B" "$(rate "$REQ_B" "$SEC_B")" \
        "$P50_B" "$P99_B" "$ERR_B" "$XC_B" "$MC_B"
    printf '%-8s %11s %9s    (icapload runs: A %s, B %s)\n' total "$(( REQ_A + REQ_B ))" \
        "$(( $(rate "$REQ_A" "$SEC_A") + $(rate "$REQ_B" "$SEC_B") ))" "$CHUNKS_A" "$CHUNKS_B"
    echo "  (* the worst chunk's percentile; A: every answer must carry X-Next-Services and"
    echo "     'bypass'; B: none may carry X-Next-Services, every one 'inspect')"
    echo "swaps: $SWAPS_SENT reload commands written ($SWAP_WRITE_FAILURES writes failed)," \
        "last version $LAST_VERSION; reload errors in the log: $RELOAD_ERRORS"
    printf '%-9s %7s %8s  %-48s %s\n' process reloads catchups 'tables logged' 'last table'
    for pid in $PIDS $CICAP_PID; do
        printf '%-9s %7s %8s  %-48s %s\n' \
            "$([[ $pid == "$CICAP_PID" ]] && echo "m$pid" || echo "$pid")" "${SWAPS[$pid]}" \
            "${CATCHUPS[$pid]}" "${TAGS[$pid]:--}" "${LAST_TAG[$pid]:--}"
    done
    echo "  (reloads: 'reload command' lines; catchups: 'new table from the master' lines," \
        "a child's tick making up for a command c-icap dropped)"
    printf '%-9s %9s %9s %8s %9s %9s %7s\n' process 'rss start' 'rss end' growth min max samples
    for pid in $PIDS master; do
        printf '%-9s %9s %9s %8s %9s %9s %7s\n' \
            "$([[ $pid == master ]] && echo "m$CICAP_PID" || echo "$pid")" \
            "${RSS_START[$pid]:-?}" "${RSS_END[$pid]:-?}" \
            "$(( ${RSS_END[$pid]:-0} - ${RSS_START[$pid]:-0} ))" "${RSS_MIN[$pid]:-?}" \
            "${RSS_MAX[$pid]:-?}" "${RSS_N[$pid]}"
    done
    echo "  (RSS in kB: medians of the first and last 10% of the samples after ${WARMUP_S} s;" \
        "bound: growth < $RSS_MAX_GROWTH_KB kB per child)"
    printf 'load sockets open per child at mid-run (beyond its idle sockets):'
    for pid in $PIDS; do printf ' %s: %s' "$pid" "${CONNS_MID[$pid]:-?}"; done
    echo
    if [[ -s "$E2E_DIR/respawns.log" ]]; then
        echo "children changed:"; sed 's/^/  /' "$E2E_DIR/respawns.log"
    else
        echo "children: $PIDS throughout (no respawn)"
    fi
} | tee "$E2E_DIR/figures.txt"

# ---- verdict ------------------------------------------------------------------

check_eq 0 "$STREAMS_RC" "stream runners' exit status"
check_eq 0 "$BAD_A" "stream A chunks with a non-zero icapload exit status"
check_eq 0 "$BAD_B" "stream B chunks with a non-zero icapload exit status"
check_ge 1 "$REQ_A" "stream A requests"
check_ge 1 "$REQ_B" "stream B requests"
check_eq 0 "$ERR_A" "stream A failed requests"
check_eq 0 "$ERR_B" "stream B failed requests"
check_eq "$REQ_A" "$XC_A" "stream A answers carrying X-Next-Services"
check_eq "$REQ_A" "$MC_A" "stream A answers with a 'bypass' decision"
check_eq 0 "$XC_B" "stream B answers carrying X-Next-Services"
check_eq "$REQ_B" "$MC_B" "stream B answers with an 'inspect' decision"
check_eq 0 "$SWAP_WRITE_FAILURES" "reload commands that could not be written"
check_eq "$SWAPS_SENT" "${SWAPS[$CICAP_PID]}" "reloads logged by the master"
check_eq 0 "$RELOAD_ERRORS" "reload errors in the server log"
for pid in $PIDS; do
    check_ge $(( SOAK_SECONDS - 5 )) "$(( SWAPS[$pid] + CATCHUPS[$pid] ))" \
        "swaps seen by child $pid (reload command + catch-up lines)"
    check_prefix "$LAST_VERSION-" "${LAST_TAG[$pid]}" "table child $pid ends with"
    check_contains "$VERSION_A-" "${TAGS[$pid]}" "child $pid logged version $VERSION_A"
    check_contains "$VERSION_B-" "${TAGS[$pid]}" "child $pid logged version $VERSION_B"
    [[ -n "${RSS_START[$pid]}" ]] || check_eq "RSS samples" none "RSS of child $pid"
    growth=$(( ${RSS_END[$pid]:-0} - ${RSS_START[$pid]:-0} ))
    check_eq "below $RSS_MAX_GROWTH_KB kB" \
        "$( (( growth < RSS_MAX_GROWTH_KB )) && echo "below $RSS_MAX_GROWTH_KB kB" || echo "$growth kB")" \
        "RSS growth of child $pid (${RSS_START[$pid]:-?} -> ${RSS_END[$pid]:-?} kB)"
    check_ge 1 "${CONNS_MID[$pid]:-0}" "load sockets open in child $pid at mid-run"
    info=$(_proc_state_start "$pid" || echo "gone ?")
    check_eq "${CHILD_START[$pid]}" "${info#* }" "child $pid still the same process"
done
check_eq "" "$(cat "$E2E_DIR/respawns.log")" "children respawned by c-icap"
check_done
