# lib.sh - shared bash library for the o365bypass end-to-end tests.
#
# Source it from a test script that runs with `set -euo pipefail`:
#
#     . "$(dirname "$0")/lib.sh"
#     e2e_init my-test
#     start_origin auto 80 443
#     start_cicap "Service o365bypass $O3B_MODULE" ...
#     start_squid chain
#
# Design:
# - Everything lives in one temp dir (E2E_DIR, mktemp -d under /tmp); every
#   process we start is recorded by PID and stopped by that PID from an EXIT
#   trap, in the order load loops, Squid, c-icap, origins: TERM, a bounded
#   wait, then KILL.  Nothing is ever stopped by name.
# - Every wait is a bounded poll (count and time), never a bare sleep.
# - c-icap leaves /tmp/icap_lock_* and /dev/shm/c-icap-shared-kids-queue.*
#   behind when killed.  We record the ones our c-icap holds open (from
#   /proc/PID/fd, with their inode) and remove only those, only if the inode
#   is still the same.  Squid runs under a unique service name (-n), so its
#   /dev/shm segments are ours by name.
# - Logs: c-icap and Squid write their access logs line by line in practice,
#   but a line is written after the answer left, so it can trail the client
#   by a moment.  logs_settle waits (bounded) until the log sizes stop
#   changing before anything is read; log_mark starts a window, log_freeze
#   settles the logs and indexes the lines of the window once, and the
#   *_count / *_decision / squid_field helpers answer from that index.
# - start_* functions set globals: call them in the main shell, never in $( ).
#
# Environment (make check exports these; defaults suit a manual run):
#   top_srcdir top_builddir O3B_MODULE O3B_CLI O3B_ACL CICAP_SERVER
#   CICAP_CLIENT SQUID PYTHON3; E2E_ACL_HELPER: the helper command Squid
#   runs in mode fast (default O3B_ACL); E2E_KEEP=1 keeps the temp dir after
#   a successful run;
#   E2E_CICAP_ACCESS_LOG=none: c-icap without an access log (load tests);
#   E2E_VALGRIND=1: c-icap runs under valgrind memcheck (see the valgrind
#   section below; `make check-valgrind`).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$E2E_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${O3B_MODULE:=$top_builddir/.libs/srv_o365bypass.so}"
: "${O3B_CLI:=$top_builddir/o365bypass}"
: "${O3B_ACL:=$top_builddir/o365bypass-acl}"
: "${CICAP_SERVER:=/usr/bin/c-icap}"
: "${CICAP_CLIENT:=/usr/bin/c-icap-client}"
: "${SQUID:=/usr/sbin/squid}"
: "${PYTHON3:=/usr/bin/python3}"

E2E_SKIP=77          # automake: test skipped
E2E_HARD_ERROR=99    # automake: the harness itself broke

# Names the tests use; Squid's hosts_file maps all of them to the origin.
E2E_TEST_HOSTS=(
    outlook.office.com outlook.office365.com
    contoso.sharepoint.com contoso-my.sharepoint.com fabrikam.sharepoint.com
    teams.microsoft.com www.office.com login.microsoftonline.com
    appcdn.onenote.net autodiscover.contoso.onmicrosoft.com
    www.example.org sharepoint.com.example.org evilsharepoint.com
    outlook.office.com.evil.example
)

# What we started, by PID (stopped by e2e_stop_all).
declare -gA _E2E_KIND=()        # PID -> load, squid, cicap or origin
declare -gA _E2E_START=()       # PID -> start time (/proc/PID/stat field 22)
declare -gA _E2E_SQUID_NAME=()  # Squid PID -> its service name (-n)
declare -gA _E2E_CICAP_DIR=()   # c-icap master PID -> its dir
_E2E_INSTANCE=0

# ---- messages and assertions ------------------------------------------------

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Print the last lines of every log we know of (context for a failure).
e2e_show_logs() {
    local f
    [[ -n "${E2E_DIR:-}" && -d "$E2E_DIR" ]] || return 0
    while IFS= read -r f; do
        [[ -s "$f" ]] || continue
        printf -- '---- %s (last 15 lines)\n' "${f#"$E2E_DIR"/}" >&2
        tail -n 15 "$f" >&2
    done < <(find "$E2E_DIR" -name '*.log' -type f | sort)
}

# fail MSG: print MSG and log context, then exit 1 (the EXIT trap cleans up).
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    e2e_show_logs
    exit 1
}

# hard_error MSG: the harness could not set up (automake exit status 99).
hard_error() {
    printf 'ERROR: %s\n' "$*" >&2
    e2e_show_logs
    exit "$E2E_HARD_ERROR"
}

skip() { printf 'SKIP: %s\n' "$*" >&2; exit "$E2E_SKIP"; }

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
    [[ "$1" == "$2" ]] || fail "$3: expected '$1', got '$2'"
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
    [[ "$1" == *"$2"* ]] || fail "$3: '$2' not found in '$1'"
}

# assert_ge MIN ACTUAL WHAT (integers)
assert_ge() {
    (( $2 >= $1 )) || fail "$3: expected at least $1, got $2"
}

# Soft checks: record a failure, keep going, and report them all at once
# (check_done), so one run shows every mismatch.
E2E_CHECKS=0
E2E_FAILED_CHECKS=0

_check_result() {
    E2E_CHECKS=$(( E2E_CHECKS + 1 ))
    if [[ "$1" != ok ]]; then
        E2E_FAILED_CHECKS=$(( E2E_FAILED_CHECKS + 1 ))
        printf '  not ok: %s\n' "$2" >&2
    fi
}

# check_eq EXPECTED ACTUAL WHAT
check_eq() {
    if [[ "$1" == "$2" ]]; then _check_result ok ""; else
        _check_result no "$3: expected '$1', got '$2'"; fi
}

# check_ge MIN ACTUAL WHAT (integers)
check_ge() {
    if (( $2 >= $1 )); then _check_result ok ""; else
        _check_result no "$3: expected at least $1, got $2"; fi
}

# check_prefix PREFIX ACTUAL WHAT
check_prefix() {
    if [[ "$2" == "$1"* ]]; then _check_result ok ""; else
        _check_result no "$3: expected '$1...', got '$2'"; fi
}

# check_contains NEEDLE HAYSTACK WHAT
check_contains() {
    if [[ "$2" == *"$1"* ]]; then _check_result ok ""; else
        _check_result no "$3: '$1' not in '$2'"; fi
}

# check_done: fail if any check failed so far.
check_done() {
    (( E2E_FAILED_CHECKS == 0 )) || fail "$E2E_FAILED_CHECKS of $E2E_CHECKS checks failed"
    e2e_log "all $E2E_CHECKS checks passed"
}

# ---- set-up and teardown ----------------------------------------------------

_e2e_require() {
    local tool
    [[ $(id -u) -eq 0 ]] || skip "needs root (origin on ports 80/443, Squid drops to proxy)"
    id proxy >/dev/null 2>&1 || skip "no user 'proxy' (install the squid package)"
    for tool in "$SQUID" "$CICAP_SERVER" "$CICAP_CLIENT" "$PYTHON3" curl c-icap-config timeout; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
    done
    if _e2e_valgrind_on; then
        command -v "${VALGRIND:-valgrind}" >/dev/null 2>&1 || skip "E2E_VALGRIND=1: valgrind not found"
    fi
}

# e2e_init NAME: temp dir, traps, tool checks.  Exports E2E_DIR.
e2e_init() {
    E2E_NAME=${1:?e2e_init NAME}
    _e2e_require
    unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
    E2E_DIR=$(mktemp -d "/tmp/o3b-e2e-$E2E_NAME.XXXXXX")
    # Squid runs as proxy: it must traverse the dir and write its own subdirs.
    chmod 0755 "$E2E_DIR"
    export E2E_DIR
    trap '_e2e_exit_trap' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    e2e_log "$E2E_NAME: temp dir $E2E_DIR"
}

# e2e_on_exit CMD ARGS...: run CMD at exit, after every process we started
# is stopped (e.g. delete a network namespace the test created).
declare -ga _E2E_ON_EXIT=()
e2e_on_exit() { _E2E_ON_EXIT+=("$(printf '%q ' "$@")"); }

_e2e_exit_trap() {
    local rc=$? cmd
    set +e
    trap - EXIT INT TERM
    e2e_stop_all
    for cmd in "${_E2E_ON_EXIT[@]}"; do eval "$cmd"; done
    if _e2e_valgrind_on && ! e2e_valgrind_verdict && (( rc == 0 )); then
        rc=1
    fi
    if (( rc != 0 )); then
        printf 'e2e %s: exit status %d; logs kept in %s\n' "${E2E_NAME:-}" "$rc" "${E2E_DIR:-?}" >&2
    elif [[ "${E2E_KEEP:-0}" == 1 ]]; then
        printf 'e2e %s: E2E_KEEP=1, logs kept in %s\n' "$E2E_NAME" "$E2E_DIR" >&2
    elif [[ -n "${E2E_DIR:-}" && "$E2E_DIR" == /tmp/o3b-e2e-* ]]; then
        rm -rf -- "$E2E_DIR"
    fi
    exit "$rc"
}

# Stop everything we started: load loops, Squid, c-icap, origins.
e2e_stop_all() {
    local kind pid
    for kind in load squid cicap origin; do
        for pid in "${!_E2E_KIND[@]}"; do
            [[ "${_E2E_KIND[$pid]}" == "$kind" ]] || continue
            case $kind in
                squid) squid_stop "$pid" ;;
                cicap) cicap_stop "$pid" ;;
                *) stop_pid "$pid" 5; _e2e_forget "$pid" ;;
            esac
        done
    done
}

# e2e_track_load PID: a load generator (started by the test) to stop first.
e2e_track_load() { _e2e_register load "$1"; }

# /proc/PID/stat fields 3 (state) and 22 (start time), comm skipped.
_proc_state_start() {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a fields <<< "${stat##*) }"
    echo "${fields[0]} ${fields[19]}"
}

_e2e_register() {
    local info
    info=$(_proc_state_start "$2") || info="? ?"
    _E2E_KIND[$2]=$1
    _E2E_START[$2]=${info#* }
}

_e2e_forget() { unset "_E2E_KIND[$1]" "_E2E_START[$1]"; }

# Is PID running (not a zombie) and, if we registered it, still the same
# process (same start time: never signal a recycled PID)?
_pid_alive() {
    local info
    info=$(_proc_state_start "$1") || return 1
    [[ "${info%% *}" != Z ]] || return 1
    [[ -z "${_E2E_START[$1]:-}" || "${_E2E_START[$1]}" == "${info#* }" ]]
}

# stop_pid PID SECONDS: TERM, wait up to SECONDS, then KILL; reap if ours.
stop_pid() {
    local pid=$1 limit=${2:-5} i
    if _pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true # it may have just exited by itself
        for (( i = 0; i < limit * 10; i++ )); do
            _pid_alive "$pid" || break
            sleep 0.1
        done
        if _pid_alive "$pid"; then
            e2e_log "pid $pid ignored TERM for ${limit}s: KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds or
# SECONDS have passed (then one last try decides).
wait_until() {
    local deadline=$(( SECONDS + $1 ))
    shift
    while (( SECONDS < deadline )); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

# ---- ports ----------------------------------------------------------------

_port_bindable() {
    "$PYTHON3" - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.close()
EOF
}

# free_port: print a loopback TCP port in 20000-31999 (below the ephemeral
# range) that can be bound now and was not handed out before in this run.
free_port() {
    local i port
    for (( i = 0; i < 50; i++ )); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
        grep -qx "$port" "$E2E_DIR/ports.used" 2>/dev/null && continue
        if _port_bindable "$port"; then
            echo "$port" >> "$E2E_DIR/ports.used"
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no free port after 50 tries" >&2
    return 1
}

_tcp_accepts() { timeout 2 bash -c ": > /dev/tcp/$1/$2" 2>/dev/null; }

# ---- origin -----------------------------------------------------------------

# _origin_try ADDR DIR ORIGIN_ARGS...: start origin.py on ADDR with its log
# and ready file in DIR; true when it listens on every --port/--tls-port.
_origin_try() {
    local addr=$1 dir=$2
    shift 2
    local ports=() arg prev="" port
    for arg in "$@"; do
        [[ "$prev" == --port || "$prev" == --tls-port ]] && ports+=("$arg")
        prev=$arg
    done
    rm -f "$dir/ready"
    "$PYTHON3" "$E2E_LIB_DIR/origin.py" --addr "$addr" "$@" \
        --log "$dir/requests.log" --ready-file "$dir/ready" \
        >> "$dir/origin.out.log" 2>&1 &
    ORIGIN_PID=$!
    _e2e_register origin "$ORIGIN_PID"
    wait_until 10 _origin_ready "$ORIGIN_PID" "$dir/ready" || true
    for port in "${ports[@]}"; do
        if ! _pid_alive "$ORIGIN_PID" || ! _tcp_accepts "$addr" "$port"; then
            stop_pid "$ORIGIN_PID" 2
            _e2e_forget "$ORIGIN_PID"
            return 1
        fi
    done
}

# True once origin.py wrote its ready file, or when it died (stop waiting).
_origin_ready() { [[ -s "$2" ]] || ! _pid_alive "$1"; }

# start_origin ADDR PORT...: start origin.py on loopback ADDR (or "auto":
# 127.0.0.42, else a random 127.42.x.y when that is taken, e.g. by a
# concurrent run), plain HTTP on each PORT.  Exports ORIGIN_ADDR, ORIGIN_PID,
# ORIGIN_LOG (one line per request: port method host path body-bytes sha256
# sni).
start_origin() {
    local want=${1:?start_origin ADDR PORT...} port args=()
    shift
    for port in "$@"; do args+=(--port "$port"); done
    start_origin_in origin "$want" "${args[@]}"
    export ORIGIN_ADDR ORIGIN_PID ORIGIN_LOG
}

# start_origin_in NAME ADDR ORIGIN_ARGS...: start origin.py with
# ORIGIN_ARGS (--port P, --tls-port P, --cert/--key/--sni-cert: see
# origin.py), its log and files in E2E_DIR/NAME.  ADDR "auto" is 127.0.0.42
# and "auto-N" 127.0.0.N, else (taken, e.g. by a concurrent run) a random
# 127.42.x.y / 127.N.x.y.  Sets ORIGIN_ADDR, ORIGIN_PID, ORIGIN_LOG.
start_origin_in() {
    local name=${1:?start_origin_in NAME ADDR ARGS...} want=${2:?start_origin_in NAME ADDR ARGS...}
    shift 2
    local dir="$E2E_DIR/$name" addr tries=1 i base=""
    mkdir -p "$dir"
    case $want in
        auto) base=42 ;;
        auto-*) base=${want#auto-} ;;
    esac
    [[ -n "$base" ]] && tries=4
    for (( i = 0; i < tries; i++ )); do
        addr=$want
        if [[ -n "$base" ]]; then
            addr=127.0.0.$base
            (( i > 0 )) && addr="127.$base.$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))"
        fi
        if _origin_try "$addr" "$dir" "$@"; then
            ORIGIN_ADDR=$addr
            ORIGIN_LOG="$dir/requests.log"
            e2e_log "$name on $addr: $* (pid $ORIGIN_PID)"
            return 0
        fi
        e2e_log "$name: cannot listen on $addr: $*"
    done
    hard_error "$name did not start (see $name/origin.out.log)"
}

# ---- the module in every child (tests/tools/icap_probe.py) -----------------

# cicap_info_page: c-icap's info page as text ("" when it does not answer).
cicap_info_page() {
    timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s "info?view=text" \
        -req http://x/ 2>/dev/null || true
}

# cicap_counter LABEL: the summed o365bypass counter (0 when absent).
cicap_counter() {
    cicap_info_page | awk -v label="$1" -F' : ' '$1 == label { print $2 + 0; found = 1; exit }
        END { if (!found) print 0 }'
}

# cicap_child_pids: the children c-icap lists, sorted, comma-separated.
cicap_child_pids() {
    cicap_info_page | awk -F': *' '$1 == "Child pids" { print $2; exit }' \
        | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | paste -sd, -
}

# icap_probe_children PIDS MAXCONN TARGET...: into PROBE_OUT one line per
# child reached, "pid version target=decision ..." (icap_probe.py: CONNECT
# for host:port, GET for http://...; decision bypass, inspect or -).
icap_probe_children() {
    PROBE_OUT=$(timeout 15 "$PYTHON3" "$top_srcdir/tests/tools/icap_probe.py" \
        "$CICAP_PORT" "$@") || true
}

# probe_all_at PIDS VERSION: did the last probe reach every pid of PIDS
# (comma-separated), each serving VERSION?
probe_all_at() {
    local pid line
    for pid in ${1//,/ }; do
        line=$(awk -v p="$pid" '$1 == p' <<< "${PROBE_OUT:-}")
        [[ -n "$line" && "$(awk '{print $2}' <<< "$line")" == "$2" ]] || return 1
    done
}

# icap_once TARGET: "STATUS DECISION-HEADER" of one REQMOD ("000 -" when
# nothing answered).
icap_once() {
    timeout 10 "$PYTHON3" "$top_srcdir/tests/tools/icap_probe.py" --once "$CICAP_PORT" "$1" \
        2>/dev/null || echo "000 -"
}

# ---- the loopback feed (tests/tools/feedserver.py) ------------------------

# start_feed [VERSION FILE]: Microsoft's web service played by feedserver.py
# on a free loopback port (its defaults without arguments).  Sets FEED_PID
# and FEED_PORT; stopped by PID at exit.
start_feed() {
    local out="$E2E_DIR/feed/stdout.log" i args=()
    (( $# >= 2 )) && args=(--version "$1" --file "$2")
    mkdir -p "$E2E_DIR/feed"
    "$PYTHON3" "$top_srcdir/tests/tools/feedserver.py" --port 0 --lifetime 300 "${args[@]}" \
        > "$out" 2> "$E2E_DIR/feed/stderr.log" &
    FEED_PID=$!
    # the tracker stops it at exit (TERM, bounded wait, KILL) like a load loop
    e2e_track_load "$FEED_PID"
    for (( i = 0; i < 100; i++ )); do
        [[ -s "$out" ]] && break
        kill -0 "$FEED_PID" 2>/dev/null || break
        sleep 0.1
    done
    FEED_PORT=$(awk '$1 == "PORT" { print $2; exit }' "$out")
    [[ -n "$FEED_PORT" ]] || hard_error "feedserver.py did not start"
    e2e_log "feed on 127.0.0.1:$FEED_PORT (pid $FEED_PID)"
}

# feed_control QUERY: /_control?QUERY (version=..&file=.., fault=..); fatal if refused.
feed_control() {
    curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$FEED_PORT/_control?$1" | grep -qx 200 \
        || hard_error "feed control '$1' refused"
}

# feed_calls METHOD: how many /METHOD/... requests the feed logged so far.
feed_calls() {
    curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$FEED_PORT/_requests" \
        | grep -o "\"path\":\"/$1/" | grep -c . || true
}

# ---- valgrind ---------------------------------------------------------------
#
# E2E_VALGRIND=1: start_cicap runs c-icap under memcheck, one log per process
# (c-icap forks its children: valgrind follows them and %p names each log),
# with longer start and stop timeouts.  No leak check (c-icap itself leaks
# noisily at exit) and no origin tracking (too slow): the point is errors -
# invalid reads and writes, uninitialised values, bad frees.  At exit the
# suite fails if an error has a frame in our code (srv_o365bypass.so, an
# o3b_* function, a module/*.c file) in any of its stacks (where it
# happened, where the block was allocated or freed), and prints it; errors
# entirely inside c-icap or libc are printed as warnings only.
# E2E_VALGRIND_OPTS adds options (e.g. --suppressions=FILE); VALGRIND names
# the binary.

E2E_VALGRIND_EXIT=97
_e2e_valgrind_on() { [[ "${E2E_VALGRIND:-0}" == 1 ]]; }

if _e2e_valgrind_on; then
    read -r -a _E2E_VALGRIND_EXTRA <<< "${E2E_VALGRIND_OPTS:-}"
    E2E_VALGRIND_CMD=("${VALGRIND:-valgrind}" --tool=memcheck --trace-children=yes
        "--error-exitcode=$E2E_VALGRIND_EXIT" --track-origins=no --leak-check=no
        --num-callers=40 --fullpath-after= "${_E2E_VALGRIND_EXTRA[@]}")
fi

# Error blocks of one valgrind log, each introduced by "@@ours" or "@@other"
# and indented.  A block starts at an unindented message line (after an
# optional "Thread N:" line) and runs until the next one or an empty
# "==PID== " line; it counts if it has a stack and its message is not a
# warning, a signal report, a summary or a leak record (leaks are not
# judged: see above).
_e2e_valgrind_blocks() {
    awk '
        function flush(   i) {
            if (n > 0 && stack && head !~ skip) {
                print (ours ? "@@ours " : "@@other ") FILENAME
                for (i = 1; i <= n; i++) print "    " b[i]
            }
            n = 0; stack = 0; ours = 0; head = ""
        }
        BEGIN {
            skip = "^(Warning|WARNING|Process terminating|HEAP SUMMARY|LEAK SUMMARY|" \
                   "ERROR SUMMARY|Memcheck|Using Valgrind|Command|Parent PID|Copyright|" \
                   "[0-9,]+ bytes in [0-9,]+ blocks are )"
            mine = "srv_o365bypass[.]so|[: ]o3b_[A-Za-z0-9_]+ |/module/[A-Za-z0-9_]+[.]c:[0-9]+"
        }
        /^==[0-9]+==/ {
            line = $0
            sub(/^==[0-9]+== ?/, "", line)
            if (line == "") { flush(); next }
            if (line !~ /^ /) {
                if (!(n == 1 && b[1] ~ /^Thread [0-9]+/)) flush()
                if (line !~ /^Thread [0-9]+/) head = line
            }
            b[++n] = line
            if (line ~ /^ +(at|by) 0x/) stack = 1
            if (line ~ mine) ours = 1
        }
        END { flush() }' "$1"
}

# e2e_valgrind_verdict: read every valgrind log under E2E_DIR; print errors
# in our code (return 1) and the others as warnings (return 0).
e2e_valgrind_verdict() {
    local f blocks all="" logs=0 ours others
    [[ -n "${E2E_DIR:-}" && -d "$E2E_DIR" ]] || return 0
    while IFS= read -r f; do
        logs=$(( logs + 1 ))
        blocks=$(_e2e_valgrind_blocks "$f")
        [[ -n "$blocks" ]] && all+="$blocks"$'\n'
    done < <(find "$E2E_DIR" -name 'valgrind.*.log' -type f | sort)
    ours=$(grep -c '^@@ours ' <<< "$all" || true)
    others=$(grep -c '^@@other ' <<< "$all" || true)
    if (( others > 0 )); then
        printf 'WARNING (valgrind): %d error(s) entirely outside our code (c-icap/libc):\n' \
            "$others" >&2
        awk '/^@@/ { show = ($1 == "@@other"); if (show) print "  in " substr($2, length(d) + 2); next }
             show' d="$E2E_DIR" <<< "$all" | head -n 200 >&2
    fi
    if (( ours > 0 )); then
        printf 'FAIL (valgrind): %d error(s) with a frame in our code:\n' "$ours" >&2
        awk '/^@@/ { show = ($1 == "@@ours"); if (show) print "  in " substr($2, length(d) + 2); next }
             show' d="$E2E_DIR" <<< "$all" >&2
    fi
    printf 'valgrind: %d log(s), %d error(s) in our code, %d elsewhere\n' \
        "$logs" "$ours" "$others" >&2
    (( ours == 0 ))
}

# ---- c-icap -----------------------------------------------------------------

_cicap_write_conf() {
    local dir=$1 port=$2 line
    shift 2
    {
        echo "# written by tests/e2e/lib.sh"
        echo "PidFile $dir/c-icap.pid"
        echo "CommandsSocket $dir/c-icap.ctl"
        echo "Port 127.0.0.1:$port"
        echo "TmpDir $dir/tmp"
        echo "ServerLog $dir/server.log"
        echo 'LogFormat e2e "%im %iu %is %huo %{X-O365bypass-Decision}<ih"'
        [[ "${E2E_CICAP_ACCESS_LOG:-}" == none ]] || echo "AccessLog $dir/access.log e2e"
        echo "StartServers 2"
        echo "MaxServers 4"
        echo "ThreadsPerChild 8"
        echo "MinSpareThreads 4"
        echo "MaxSpareThreads 12"
        echo "DebugLevel ${E2E_CICAP_DEBUG:-3}"
        echo "ModulesDir $(c-icap-config --modulesdir)"
        echo "ServicesDir $(c-icap-config --modulesdir)"
        echo "Service echo srv_echo.so"
        for line in "$@"; do echo "$line"; done
    } > "$dir/c-icap.conf"
}

# Is SERVICE on the c-icap at PORT answering OPTIONS with 200?
cicap_service_ok() {
    local service=$1 port=${2:-$CICAP_PORT} answer
    # c-icap-client exits 0 on a 404 too: look at the status line.
    answer=$(timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$port" -s "$service" 2>&1) || return 1
    [[ "$answer" =~ ICAP/1.0\ 200 ]]
}

# True when echo answers OPTIONS, or when c-icap died (stop waiting).
_cicap_ready() { cicap_service_ok echo "$2" || ! _pid_alive "$1"; }

# Record the lock/shm files c-icap holds open, with their inodes.
_cicap_record_owned() {
    local pid=$1 out=$2 fd target
    : > "$out"
    for fd in "/proc/$pid/fd/"*; do
        target=$(readlink "$fd" 2>/dev/null) || continue
        case $target in
            /tmp/icap_lock_*|/dev/shm/c-icap-shared-kids-queue.*)
                echo "$(stat -c '%d:%i' "$target" 2>/dev/null) $target" >> "$out" ;;
        esac
    done
}

_cicap_remove_owned() {
    local list=$1 id path
    [[ -f "$list" ]] || return 0
    while read -r id path; do
        [[ -e "$path" ]] || continue
        if [[ "$(stat -c '%d:%i' "$path" 2>/dev/null)" == "$id" ]]; then
            rm -f -- "$path" && e2e_log "removed leftover $path"
        fi
    done < "$list"
}

# fixed_children N THREADS: the start_cicap lines for exactly N children of
# THREADS threads each (c-icap never starts or stops one by itself, so
# counters summed over children and "every child" checks are exact), into
# the array FIXED_CHILDREN.
fixed_children() {
    FIXED_CHILDREN=("StartServers $1" "MaxServers $1" "ThreadsPerChild $2" "MinSpareThreads 1"
        "MaxSpareThreads $(( $1 * $2 ))")
}

# start_cicap CONF_LINE...: write a c-icap.conf (echo service = the DLP
# stand-in, plus the given lines), start `c-icap -N` (under valgrind with
# E2E_VALGRIND=1), wait until echo answers OPTIONS (20 s; 180 s under
# valgrind).  Exports CICAP_PORT CICAP_PID CICAP_ACCESS_LOG
# CICAP_SERVER_LOG CICAP_CTL CICAP_DIR.
start_cicap() {
    local dir attempt port ready_s=20 launcher=()
    _E2E_INSTANCE=$(( _E2E_INSTANCE + 1 ))
    dir="$E2E_DIR/cicap$_E2E_INSTANCE"
    mkdir -p "$dir/tmp"
    if _e2e_valgrind_on; then
        ready_s=180
        launcher=("${E2E_VALGRIND_CMD[@]}" "--log-file=$dir/valgrind.%p.log")
    fi
    for attempt in 1 2 3; do
        port=$(free_port) || hard_error "no free port for c-icap"
        _cicap_write_conf "$dir" "$port" "$@"
        rm -f "$dir/c-icap.pid" "$dir/owned-files"
        : > "$dir/server.log"
        "${launcher[@]}" "$CICAP_SERVER" -N -f "$dir/c-icap.conf" > "$dir/stdout.log" 2>&1 &
        CICAP_PID=$!
        _e2e_register cicap "$CICAP_PID"
        _E2E_CICAP_DIR[$CICAP_PID]=$dir
        if wait_until "$ready_s" _cicap_ready "$CICAP_PID" "$port" && _pid_alive "$CICAP_PID"; then
            _cicap_record_owned "$CICAP_PID" "$dir/owned-files"
            CICAP_PORT=$port
            CICAP_DIR=$dir
            CICAP_ACCESS_LOG="$dir/access.log"
            CICAP_SERVER_LOG="$dir/server.log"
            CICAP_CTL="$dir/c-icap.ctl"
            export CICAP_PORT CICAP_PID CICAP_ACCESS_LOG CICAP_SERVER_LOG CICAP_CTL CICAP_DIR
            e2e_log "c-icap on 127.0.0.1:$port (pid $CICAP_PID, $dir)"
            return 0
        fi
        cicap_stop "$CICAP_PID"
        grep -q 'Error binding' "$dir/server.log" "$dir/stdout.log" 2>/dev/null \
            || break
        e2e_log "c-icap could not bind $port (attempt $attempt of 3)"
    done
    hard_error "c-icap did not start (see ${dir#"$E2E_DIR"/}/server.log, stdout.log)"
}

# cicap_ctl CMD: write CMD to the CommandsSocket FIFO (3 s at most).
cicap_ctl() {
    # shellcheck disable=SC2016 # $1/$2 belong to the inner bash
    timeout 3 bash -c 'printf "%s" "$1" > "$2"' _ "$1" "${2:-$CICAP_CTL}" \
        || { e2e_log "cicap_ctl $1: nobody read the FIFO"; return 1; }
}

_child_pids() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

_e2e_kill_cicap_tree() {
    local master=$1 dir=$2 children="" child
    if _pid_alive "$master"; then
        children=$(_child_pids "$master" || true)
        _cicap_record_owned "$master" "$dir/owned-files"
    fi
    stop_pid "$master" "$(_e2e_valgrind_on && echo 90 || echo 15)"
    for child in $children; do
        # Children the master did not take down (it was KILLed): still ours
        # only if they still run our config.
        if _pid_alive "$child" && grep -qF "$dir/c-icap.conf" "/proc/$child/cmdline" 2>/dev/null; then
            stop_pid "$child" "$(_e2e_valgrind_on && echo 30 || echo 3)"
        fi
    done
    _cicap_remove_owned "$dir/owned-files"
}

# cicap_stop [PID]: stop a c-icap we started (default: the latest).  Stop
# Squid first: open ICAP connections slow c-icap's shutdown down.
cicap_stop() {
    local pid=${1:-${CICAP_PID:-}}
    [[ -n "$pid" && -n "${_E2E_CICAP_DIR[$pid]:-}" ]] || return 0
    _e2e_kill_cicap_tree "$pid" "${_E2E_CICAP_DIR[$pid]}"
    unset "_E2E_CICAP_DIR[$pid]"
    _e2e_forget "$pid"
}

# ---- Squid ------------------------------------------------------------------

# The Squid access log format: fields separated by '|', header value raw.
E2E_SQUID_LOGFORMAT="E2E|%rm|%ru|%>Hs|%'{X-O365bypass-Decision}adapt::<last_h|%adapt::sum_trs|%adapt::all_trs"

_squid_hosts_file() {
    printf '%s %s\n' "$ORIGIN_ADDR" "${E2E_TEST_HOSTS[*]}" > "$1"
    chmod 0644 "$1"
}

# Mode fast: the shipped conf/squid-o365bypass-acl.conf with this run's
# ports and paths (module and DLP stand-in on our c-icap, the built helper
# reading our c-icap.conf); its access_log lines give way to ours.  Every
# example value must be there: a shipped file that changed shape fails
# loudly instead of testing something else.
_squid_fast_adaptation() {
    local conf="$top_srcdir/conf/squid-o365bypass-acl.conf" want
    for want in icap://127.0.0.1:1344/o365bypass icap://127.0.0.1:1345/dlp_reqmod \
        icap://127.0.0.1:1345/dlp_respmod /usr/lib/squid/o365bypass-acl \
        '-c /etc/c-icap/c-icap.conf' 'access_log daemon:'; do
        grep -qF -- "$want" "$conf" || hard_error "conf/squid-o365bypass-acl.conf: '$want' not found"
    done
    sed -e "s|icap://127\.0\.0\.1:1344/o365bypass|icap://127.0.0.1:$CICAP_PORT/o365bypass|" \
        -e "s|icap://127\.0\.0\.1:1345/dlp_[a-z]*|icap://127.0.0.1:$CICAP_PORT/echo|" \
        -e "s|/usr/lib/squid/o365bypass-acl|${E2E_ACL_HELPER:-$O3B_ACL}|" \
        -e "s|-c /etc/c-icap/c-icap\.conf|-c $CICAP_DIR/c-icap.conf|" \
        -e '/^access_log /d' "$conf"
}

# Mode floor (benchmarks only): the same file with every adaptation denied
# and the helper never asked - what Squid spends on having the chains
# configured at all, the floor under the fast path.
# The fast path without the helper's --brief (every note in each answer).
_squid_fast_full_adaptation() {
    local conf
    conf=$(_squid_fast_adaptation)
    grep -q -- ' --brief -c ' <<< "$conf" \
        || hard_error "conf/squid-o365bypass-acl.conf: the helper line has no '--brief -c' to drop"
    sed -e 's| --brief -c | -c |' <<< "$conf"
}
_squid_floor_adaptation() {
    _squid_fast_adaptation | sed -e '/^adaptation_access o365_ask_req deny o365_lookup$/d' \
        -e 's/^\(adaptation_access [a-z0-9_]* *\)deny o365_fast$/\1deny all/'
}

# The adaptation part of squid.conf for MODE (checked by start_squid).
_squid_adaptation() {
    local mode=$1 o365_url="" dlp_url="icap://127.0.0.1:${CICAP_PORT:-}/echo"
    case $mode in
        none) echo "icap_enable off"; return 0 ;;
        fast) _squid_fast_adaptation; return 0 ;;
        fast-full) _squid_fast_full_adaptation; return 0 ;;
        floor) _squid_floor_adaptation; return 0 ;;
        chain) o365_url="icap://127.0.0.1:$CICAP_PORT/o365bypass" ;;
        chain-broken) o365_url="icap://127.0.0.1:$CICAP_PORT/o365bypass_missing" ;;
        chain-dead) o365_url="icap://127.0.0.1:1/o365bypass" ;;  # port 1: closed
    esac
    cat <<EOF
icap_enable on
icap_preview_enable on
icap_connect_timeout 5 seconds
icap_io_timeout 30 seconds
icap_service dlp_req  reqmod_precache  $dlp_url bypass=off
icap_service dlp_resp respmod_precache $dlp_url bypass=off
EOF
    if [[ -z "$o365_url" ]]; then
        echo "adaptation_access dlp_req allow all"
        echo "adaptation_access dlp_resp allow all"
        return 0
    fi
    cat <<EOF
icap_service o365_req  reqmod_precache  $o365_url routing=on bypass=on
icap_service o365_resp respmod_precache $o365_url routing=on bypass=on
adaptation_service_chain o365_then_dlp_req  o365_req  dlp_req
adaptation_service_chain o365_then_dlp_resp o365_resp dlp_resp
adaptation_access o365_then_dlp_req  allow all
adaptation_access o365_then_dlp_resp allow all
EOF
}

_squid_write_conf() {
    local dir=$1 port=$2 mode=$3
    {
        echo "# written by tests/e2e/lib.sh, mode $mode"
        echo "http_port 127.0.0.1:$port"
        squid_base_conf "$dir"
        _squid_adaptation "$mode"
    } > "$dir/squid.conf"
    chmod 0644 "$dir/squid.conf"
}

# squid_base_conf DIR: the squid.conf lines every test Squid shares (no
# port, no adaptation): files under DIR, the e2e access log, names from
# hosts_file only, and the loopback guard before any allow.
squid_base_conf() {
    local dir=$1
    cat <<EOF
visible_hostname o3b-e2e
cache_effective_user proxy
cache deny all
cache_mem 8 MB
pid_filename $dir/squid.pid
cache_log $dir/cache.log
logformat e2e $E2E_SQUID_LOGFORMAT
access_log stdio:$dir/access.log e2e
buffered_logs off
logfile_rotate 0
coredump_dir $dir
netdb_filename none
hosts_file $E2E_DIR/hosts
dns_nameservers 127.0.0.1
dns_timeout 5 seconds
pinger_enable off
shutdown_lifetime 1 seconds
forward_max_tries 2
connect_timeout 5 seconds
# Loopback only: a test must never reach a public address (IP literals and
# names outside hosts_file would otherwise connect to real Microsoft hosts).
acl lo_dst dst 127.0.0.0/8 ::1
http_access deny !lo_dst
acl SSL_ports port 443 80
acl Safe_ports port 80 443
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
EOF
}

# Probe through Squid; also true when Squid died (stop waiting).
_squid_ready() {
    local code
    _pid_alive "$1" || return 0
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --noproxy '' \
        -x "http://127.0.0.1:$2" "http://www.example.org/e2e-ready/$3" 2>/dev/null) || return 1
    [[ "$code" == 200 ]]
}

# start_squid MODE: write a squid.conf, check it with -k parse, start
# `squid -N`, wait (20 s) until a probe request for
# http://www.example.org/e2e-ready/MODE gets the origin's 200.  MODE:
#   chain         the product: [o365bypass (routing=on bypass=on), echo]
#                 as one adaptation chain for REQMOD and one for RESPMOD
#   chain-broken  the same, o365 services naming a service c-icap lacks
#   chain-dead    the same, o365 services on a closed port (127.0.0.1:1)
#   fast          conf/squid-o365bypass-acl.conf: the chain, skipped for
#                 what the o365bypass-acl helper bypasses
#   floor         the same file, every adaptation denied, the helper never
#                 asked (benchmarks: the cost of configured chains alone)
#   dlp-only      only the echo services
#   none          no adaptation
# Needs ORIGIN_ADDR and, unless MODE is none, CICAP_PORT.  Exports
# SQUID_PORT SQUID_PID SQUID_DIR SQUID_ACCESS_LOG SQUID_MODE.
start_squid() {
    local mode=${1:?start_squid MODE}
    case $mode in
        none) ;;
        chain|chain-broken|chain-dead|dlp-only|fast|fast-full|floor)
            [[ -n "${CICAP_PORT:-}" ]] || hard_error "start_squid $mode: start c-icap first" ;;
        *) hard_error "start_squid: unknown mode '$mode'" ;;
    esac
    start_squid_with _squid_write_conf "$mode"
}

# start_squid_with WRITER MODE: start_squid with the squid.conf written by
# `WRITER DIR PORT MODE` into DIR/squid.conf; PORT is the forward-proxy
# http_port the readiness probe uses (the writer may pick more ports with
# free_port).  MODE only names the instance and its dir.  Squid runs with
# the NAME=VALUE words of E2E_SQUID_ENV added to its environment.
start_squid_with() {
    local writer=${1:?start_squid_with WRITER MODE} mode=${2:?start_squid_with WRITER MODE}
    local dir attempt port name
    _E2E_INSTANCE=$(( _E2E_INSTANCE + 1 ))
    dir="$E2E_DIR/squid$_E2E_INSTANCE-$mode"
    name="o3be2e$$x$_E2E_INSTANCE"    # -n: unique shm segment names
    mkdir -p "$dir"
    chown proxy:proxy "$dir"
    [[ -f "$E2E_DIR/hosts" ]] || _squid_hosts_file "$E2E_DIR/hosts"
    for attempt in 1 2 3; do
        port=$(free_port) || hard_error "no free port for Squid"
        "$writer" "$dir" "$port" "$mode"
        if ! "$SQUID" -k parse -n "$name" -f "$dir/squid.conf" > "$dir/squid-parse.txt" 2>&1; then
            grep -v 'Processing:' "$dir/squid-parse.txt" | tail -n 20 >&2
            fail "squid -k parse rejected ${dir#"$E2E_DIR"/}/squid.conf"
        fi
        rm -f "$dir/cache.log" "$dir/access.log"
        # shellcheck disable=SC2086 # E2E_SQUID_ENV: zero or more NAME=VALUE words
        env ${E2E_SQUID_ENV:-} "$SQUID" -N -n "$name" -f "$dir/squid.conf" > "$dir/stdout.log" 2>&1 &
        SQUID_PID=$!
        _e2e_register squid "$SQUID_PID"
        _E2E_SQUID_NAME[$SQUID_PID]=$name
        if wait_until 20 _squid_ready "$SQUID_PID" "$port" "$mode" && _pid_alive "$SQUID_PID"; then
            SQUID_PORT=$port
            SQUID_DIR=$dir
            SQUID_ACCESS_LOG="$dir/access.log"
            SQUID_MODE=$mode
            export SQUID_PORT SQUID_PID SQUID_DIR SQUID_ACCESS_LOG SQUID_MODE
            e2e_log "squid ($mode) on 127.0.0.1:$port (pid $SQUID_PID, $dir)"
            return 0
        fi
        squid_stop "$SQUID_PID"
        grep -q -i 'cannot bind\|address already in use' "$dir/cache.log" 2>/dev/null || break
        e2e_log "squid could not bind $port (attempt $attempt of 3)"
    done
    fail "squid ($mode) did not start or does not forward (see ${dir#"$E2E_DIR"/}/cache.log)"
}

# squid_heap_env: the NAME=VALUE the shipped conf/squid-heap.conf (a
# systemd drop-in for squid.service) puts in Squid's environment.
squid_heap_env() {
    local value
    value=$(sed -n 's/^Environment=//p' "$top_srcdir/conf/squid-heap.conf")
    [[ "$value" == GLIBC_TUNABLES=* && "$value" != *' '* ]] ||
        hard_error "conf/squid-heap.conf: no single 'Environment=GLIBC_TUNABLES=...' line"
    echo "$value"
}

# squid_stop [PID]: stop a Squid we started (default: the latest).
squid_stop() {
    local pid=${1:-${SQUID_PID:-}}
    [[ -n "$pid" && -n "${_E2E_SQUID_NAME[$pid]:-}" ]] || return 0
    stop_pid "$pid" 10
    # Segments named after our unique service name are ours (a KILLed Squid
    # leaves them behind).
    rm -f -- /dev/shm/"${_E2E_SQUID_NAME[$pid]}"-*.shm
    unset "_E2E_SQUID_NAME[$pid]"
    _e2e_forget "$pid"
}

# ---- requests ---------------------------------------------------------------

# via_squid OUTFILE CURL_ARGS...: one request through Squid; prints the HTTP
# status (000 when curl failed).  The body goes to OUTFILE.
via_squid() {
    local out=$1 code
    shift
    code=$(curl -sS --max-time 30 --noproxy '' -x "http://127.0.0.1:$SQUID_PORT" \
        -H 'Expect:' -o "$out" -w '%{http_code}' "$@" 2>>"$E2E_DIR/curl.log") || true
    echo "${code:-000}"
}

# ---- logs -------------------------------------------------------------------

_log_sizes() {
    local f
    for f in "$@"; do stat -c %s "$f" 2>/dev/null || echo 0; done | tr '\n' ' '
}

# logs_settle FILE...: wait until the files' sizes stay the same for 0.3 s
# (5 s at most).  Log lines are written just after an answer leaves, so
# they can trail the client by a moment; this bounds that race.
logs_settle() {
    local last now stable=0 i
    last=$(_log_sizes "$@")
    for (( i = 0; i < 50 && stable < 3; i++ )); do
        sleep 0.1
        now=$(_log_sizes "$@")
        if [[ "$now" == "$last" ]]; then stable=$(( stable + 1 )); else stable=0; fi
        last=$now
    done
}

# log_mark: the log helpers below only consider lines written after this.
log_mark() {
    logs_settle "$CICAP_ACCESS_LOG" ${SQUID_ACCESS_LOG:+"$SQUID_ACCESS_LOG"}
    E2E_CICAP_MARK=$(wc -l < "$CICAP_ACCESS_LOG")
    E2E_SQUID_MARK=$(wc -l < "${SQUID_ACCESS_LOG:-/dev/null}")
    E2E_FROZEN=0
}

# c-icap access-log lines since the mark: "METHOD SERVICE STATUS URL DECISION..."
cicap_lines() { tail -n "+$(( ${E2E_CICAP_MARK:-0} + 1 ))" "$CICAP_ACCESS_LOG"; }

# Squid access-log lines since the mark (E2E_SQUID_LOGFORMAT).
squid_lines() { tail -n "+$(( ${E2E_SQUID_MARK:-0} + 1 ))" "$SQUID_ACCESS_LOG"; }

# log_freeze: let the logs settle, then index the lines since the mark once
# (per service, ICAP method and URL: how many; the module's last decision;
# Squid's last line per URL).  The *_count, module_decision and squid_field
# helpers read this index: call log_freeze after the traffic to look at.
log_freeze() {
    local kind key value
    logs_settle "$CICAP_ACCESS_LOG" ${SQUID_ACCESS_LOG:+"$SQUID_ACCESS_LOG"}
    declare -gA E2E_SEEN=() E2E_DECISION=() E2E_SQUID_LINE=()
    while IFS=$'\t' read -r kind key value; do
        case $kind in
            N) E2E_SEEN[$key]=$value ;;
            D) E2E_DECISION[$key]=$value ;;
        esac
    done < <(cicap_lines | awk '
        NF >= 4 {
            svc = $2; sub(/.*\//, "", svc)       # %iu: "echo" or ".../echo"
            n[svc " " $1 " " $4]++
            if (svc == "o365bypass") {
                d = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ ?/, "", d)
                dec[$1 " " $4] = (d == "" ? "-" : d)
            }
        }
        END {
            for (k in n) printf "N\t%s\t%d\n", k, n[k]
            for (k in dec) printf "D\t%s\t%s\n", k, dec[k]
        }')
    if [[ -n "${SQUID_ACCESS_LOG:-}" ]]; then
        while IFS= read -r value; do
            IFS='|' read -r kind _ key _ <<< "$value"
            [[ "$kind" == E2E ]] && E2E_SQUID_LINE[$key]=$value
        done < <(squid_lines)
    fi
    E2E_FROZEN=1
}

_e2e_need_freeze() {
    [[ "${E2E_FROZEN:-0}" == 1 ]] || hard_error "call log_freeze before reading the logs"
}

# cicap_count SERVICE METHOD URL: c-icap lines since the mark for that
# service (%iu), ICAP method and exact URL (CONNECT requests: host:port).
cicap_count() {
    _e2e_need_freeze
    echo "${E2E_SEEN["$1 $2 $3"]:-0}"
}

# dlp_count METHOD URL: how often the DLP (echo) saw it (exact URL).
dlp_count() { cicap_count echo "$1" "$2"; }

# module_count METHOD URL: how often the o365bypass service saw it.
module_count() { cicap_count o365bypass "$1" "$2"; }

# dlp_saw URL_SUBSTRING: how many DLP lines since the mark mention it
# (reads the log itself; call logs_settle or log_freeze first).
dlp_saw() {
    cicap_lines | awk -v u="$1" '
        ($2 == "echo" || $2 ~ /\/echo$/) && index($4, u) { n++ }
        END { print n + 0 }'
}

# module_decision METHOD URL: the X-O365bypass-Decision the module sent
# with its last answer for that request ("-" when none).
module_decision() {
    _e2e_need_freeze
    echo "${E2E_DECISION["$1 $2"]:--}"
}

# squid_field URL FIELD: a field of Squid's last log line for URL (%ru),
# numbered as in E2E_SQUID_LOGFORMAT: 2 method, 4 status, 5 decision,
# 6 sum_trs, 7 all_trs ("-" when there is no such line).
squid_field() {
    local fields
    _e2e_need_freeze
    IFS='|' read -r -a fields <<< "${E2E_SQUID_LINE[$1]:-}"
    local value=${fields[$(( $2 - 1 ))]:-}
    echo "${value:--}"
}
