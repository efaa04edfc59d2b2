#!/bin/bash
# bench.sh - `make bench`: the o365bypass performance figures in one table.
#
# Three parts, each against a named baseline, then one summary table with
# every figure, its ratio to the baseline and PASS/MISS per goal.  A MISS is
# printed, never turned into a failing exit status: benchmarks are not tests.
# The script fails only when the harness itself breaks.
#
#  micro  tests/bench/micro.sh: the core's lookup against a naive fnmatch
#         scan and a one-probe hash floor; table build time and memory.
#  icap   one c-icap instance serving the module, c-icap's srv_echo (the
#         baseline the goals name) and tests/bench/srv_noop.c, a service
#         that answers 204 in the preview and does nothing else (the floor
#         of any c-icap service); tests/bench/icapload sends Squid-shaped
#         REQMODs (header-only GET, 4 KiB POST with the Preview Squid sends
#         each service, CONNECT) over persistent connections.  Runs are
#         interleaved echo/module/noop, then noop/module/echo (the module in
#         the middle, so drift hits each pair alike), BENCH_ROUNDS rounds of
#         BENCH_SECONDS each; medians are reported, ratios are medians of
#         the per-round ratios: module/echo (the goals), module/noop (the
#         module's own cost), noop/echo (what doing nothing gets).
#         Only interleaved runs against one instance are compared: the same
#         c-icap varies ~20% between restarts.
#  squid  real Squid on loopback in eight modes at once (no adaptation;
#         the product chain [module, srv_echo as the inspection stand-in];
#         the stand-in only; the fast path: conf/squid-o365bypass-acl.conf,
#         where the o365bypass-acl helper lets Microsoft 365 skip the chain;
#         the floor: that file with every adaptation denied and no helper,
#         i.e. what Squid spends on configured chains before any lookup;
#         the fast path without the helper's --brief, every note in each
#         answer; no adaptation and the fast path again on glibc's default
#         heap settings), Squid's CPU per request (with its helpers) in each
#         run.  Every other mode runs Squid with the environment of the
#         shipped conf/squid-heap.conf (the drop-in the README recommends),
#         a fast C origin (tests/bench/bench_origin,
#         127.0.0.42:80, named in Squid's hosts_file) and Debian's wrk
#         through the proxy (absolute URL in the request line); interleaved
#         rounds again.  Needs root (port 80, Squid drops to user proxy):
#         skipped with a message otherwise; installs wrk with apt-get if
#         it is missing.  c-icap's per-service counters show which service
#         saw each request.  Then tests/bench/bench_acl feeds the helper
#         binary distinct keys of the real table (cold: Squid asks once per
#         key and ttl): answers/s and CPU us per answer, next to the module's
#         own per-request decision (micro's A2, when the micro part ran).
#
# Every process is started through tests/e2e/lib.sh (recorded by PID,
# stopped by PID from the EXIT trap) and every run is bounded in time and
# count.  Logs are kept minimal: c-icap without an access log at DebugLevel
# 0, Squid with `access_log none`.
#
# usage: tests/bench/bench.sh BUILDDIR SRCDIR      (what `make bench` runs)
# Environment (empty means the default):
#   BENCH_SECONDS        one ICAP run, seconds (default 2, 1..20)
#   BENCH_ROUNDS         interleaved ICAP rounds (default 6, 1..15; even
#                        numbers balance the order of the services)
#   BENCH_SQUID_SECONDS  one wrk run through Squid, seconds (default 4, 1..20)
#   BENCH_SQUID_ROUNDS   interleaved Squid rounds (default 5, 1..15)
#   BENCH_CONNECTIONS    icapload connections (default 4)
#   BENCH_PARTS          any of "micro icap squid" (default all three)
#   BENCH_MICRO_QUICK=1  micro.sh --quick (a smoke run, too short to judge)
#   BENCH_PROFILE=1      after the ICAP rounds, a perf profile of the c-icap
#                        children while they serve the module (4 KiB POSTs);
#                        after the Squid rounds, perf and strace -c on Squid
#                        in modes none, floor and fast (GETs)
#   BENCH_OUTPUT         also write stdout here (default BUILDDIR/bench-latest.txt;
#                        "none": do not)
set -euo pipefail

if (( $# < 2 )); then
    echo "usage: $0 BUILDDIR SRCDIR" >&2
    exit 2
fi
BUILDDIR=$(cd "$1" && pwd)
SRCDIR=$(cd "$2" && pwd)
export top_builddir=${top_builddir:-$BUILDDIR} top_srcdir=${top_srcdir:-$SRCDIR}

# bounded_int NAME DEFAULT MIN MAX: the variable's value, defaulted and clamped.
bounded_int() {
    local value=${!1:-}
    [[ "$value" =~ ^[0-9]+$ ]] || value=$2
    (( value < $3 )) && value=$3
    (( value > $4 )) && value=$4
    echo "$value"
}
ICAP_SECONDS=$(bounded_int BENCH_SECONDS 2 1 20)
ICAP_ROUNDS=$(bounded_int BENCH_ROUNDS 6 1 15)
SQUID_SECONDS=$(bounded_int BENCH_SQUID_SECONDS 4 1 20)
SQUID_ROUNDS=$(bounded_int BENCH_SQUID_ROUNDS 5 1 15)
ICAP_CONNECTIONS=$(bounded_int BENCH_CONNECTIONS 4 1 64)
PARTS=${BENCH_PARTS:-micro icap squid}

ICAPLOAD="$BUILDDIR/tests/bench/icapload"
NOOP_MODULE="$BUILDDIR/tests/bench/.libs/srv_noop.so"
ORIGIN_BIN="$BUILDDIR/tests/bench/bench_origin"
ACL_BENCH="$BUILDDIR/tests/bench/bench_acl"
ACL_KEYS=100000                # distinct keys fed to the helper
ICAP_BODY=4096                 # the POST body of the ICAP part
ICAP_MAX_RATE=250000           # -n bound per second of run (icapload stores a latency per request)
SQUID_BODY=$(( 1024 * 1024 ))  # the POST body of the Squid part
SQUID_MAX_RATE=100000          # wrk request bound per second of run
SQUID_HOST=outlook.office.com  # Microsoft 365, Exchange Online, Optimize: bypassed

OUTPUT=${BENCH_OUTPUT:-$BUILDDIR/bench-latest.txt}
TEE_PID=""
if [[ "$OUTPUT" != none ]]; then
    if : 2> /dev/null > "$OUTPUT"; then
        exec > >(tee "$OUTPUT")
        TEE_PID=$!
    else
        echo "bench.sh: cannot write $OUTPUT; the output goes to stdout only" >&2
    fi
fi

# shellcheck source=../e2e/lib.sh
. "$SRCDIR/tests/e2e/lib.sh"

T_START=$SECONDS
declare -A VALUES=()   # "part.kind.who.metric" -> space-separated values, one per round
SUMMARY=()             # rows: part|measurement|value|baseline|ratio|goal|result
NOTES=()               # lines printed under the table
MICRO_A2=""            # the micro part's (A2) "ops ns", when it ran

# ---- small helpers ------------------------------------------------------------

section() { printf '\n==== %s %s\n' "$1" "$(printf '=%.0s' $(seq 1 $(( 74 - ${#1} ))))"; }

note() { NOTES+=("$*"); }

# add_value KEY VALUE: append a figure (not during warm-up runs).
BENCH_WARMUP=0
add_value() {
    (( BENCH_WARMUP )) && return 0
    VALUES[$1]="${VALUES[$1]:-}${VALUES[$1]:+ }$2"
}

# median KEY: the median of the values stored under KEY ("" when none).
median() {
    tr ' ' '\n' <<< "${VALUES[$1]:-}" | awk 'NF' | sort -g | awk '
        { v[NR] = $1 }
        END { if (NR == 0) exit; print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# spread KEY: (max - min) / median of the values under KEY, in percent.
spread() {
    local med
    med=$(median "$1")
    tr ' ' '\n' <<< "${VALUES[$1]:-}" | awk -v m="${med:-0}" 'NF {
            if (min == "" || $1 < min) min = $1; if (max == "" || $1 > max) max = $1 }
        END { if (m > 0) printf "%.0f%%", 100 * (max - min) / m; else print "-" }'
}

# ratio A B: A / B with two decimals ("-" when either is missing or B is 0).
ratio() {
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
        if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
        else printf "%.2f", a / b }'
}

# xratio A B: the ratio with an "x" ("-" when there is none).
xratio() {
    local r
    r=$(ratio "$1" "$2")
    [[ "$r" == - ]] && echo - || echo "${r}x"
}

# verdict RATIO OP LIMIT: PASS or MISS (OP is ">=" or "<="); "-" without a ratio.
verdict() {
    awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (r == "-" || r == "") { print "-"; exit }
        ok = (op == ">=") ? (r + 0 >= l + 0) : (r + 0 <= l + 0)
        print ok ? "PASS" : "MISS" }'
}

# row PART MEASUREMENT VALUE BASELINE RATIO GOAL RESULT
row() { SUMMARY+=("$1|$2|$3|$4|$5|$6|$7"); }

fmt_int() { awk -v v="${1:-}" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%.0f", v }'; }

# cpu_busy SECONDS: percent of all CPUs busy (not idle/iowait) over SECONDS.
cpu_busy() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep "$1"
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
        printf "%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0 }'
}

# The processes using most CPU right now (top's second sample), ours excluded.
busy_processes() {
    top -b -n 2 -d 0.5 -w 200 2>/dev/null | awk -v self=$$ '
        /^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 && $1 != self {
            printf "%s%s %s%%", (n++ ? ", " : ""), $12, $9 }
        END { if (!n) printf "none above 10%%" }'
}

# json_field JSON KEY: a number or string from icapload's one-line JSON.
json_field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<< "$1" | sed -n '1,1p'; }

# ---- set-up -------------------------------------------------------------------

# Like e2e_init, without its root requirement (the ICAP part runs as anyone).
bench_init() {
    E2E_NAME=bench  # read by lib.sh's exit trap
    export E2E_NAME
    unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
    E2E_DIR=$(mktemp -d /tmp/o3b-e2e-bench.XXXXXX)
    chmod 0755 "$E2E_DIR"
    export E2E_DIR
    trap '_e2e_exit_trap' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Load runs without logs: no c-icap access log, debug level 0.
    export E2E_CICAP_ACCESS_LOG=none E2E_CICAP_DEBUG=0
}

# Squid through lib.sh, but without an access log (one write per request).
eval "$(declare -f _squid_write_conf | sed '1s/_squid_write_conf/_lib_squid_write_conf/')"
_squid_write_conf() {
    _lib_squid_write_conf "$@"
    sed -i -e 's|^access_log .*|access_log none|' "$1/squid.conf"
}

# The module's directives: the shipped seed table, no refresh.
module_lines() {
    mkdir -p "$E2E_DIR/cache"
    printf '%s\n' \
        "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $SRCDIR/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir $E2E_DIR/cache" \
        "o365bypass.RefreshInterval 0"
}

# ---- header -------------------------------------------------------------------

print_header() {
    local cores model kernel mem load busy procs cicap_v squid_v wrk_v cc_v cflags
    cores=$(grep -c '^processor' /proc/cpuinfo)
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n '1,1p')
    kernel="$(uname -s) $(uname -r) $(uname -m)"
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    busy=$(cpu_busy 1)
    procs=$(busy_processes)
    cicap_v=$("$CICAP_SERVER" -V 2>/dev/null | sed -n '1,1p' || echo "not found")
    squid_v=$("$SQUID" -v 2>/dev/null | sed -n 's/^Squid Cache: Version //p' | sed -n '1,1p' || true)
    wrk_v=$(wrk -v 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p' | sed -n '1,1p' || true)
    cc_v=$(${CC:-cc} --version 2>/dev/null | sed -n '1,1p' || echo "?")
    cflags=$(sed -n 's/^CFLAGS = //p' "$BUILDDIR/Makefile" 2>/dev/null | sed -n '1,1p')

    echo "o365bypass benchmarks (make bench)"
    echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine:   ${model:-unknown CPU}, $cores cores (/proc/cpuinfo), $mem RAM, $kernel"
    echo "software:  c-icap ${cicap_v}, Squid ${squid_v:-not found}, wrk ${wrk_v:-not installed}," \
         "o365bypass $(sed -n 's/^PACKAGE_VERSION = //p' "$BUILDDIR/Makefile" | sed -n '1,1p')"
    echo "build:     $cc_v, CFLAGS ${cflags:-?} ($BUILDDIR)"
    echo "load:      load average $load at start; CPU ${busy}% busy over 1 s before the runs"
    echo "           busiest processes: $procs"
    if (( busy > 25 )) || awk -v l="${load%% *}" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
        echo "WARNING:   the machine is BUSY (other jobs share its $cores cores): absolute figures are"
        echo "           low and noisy; the interleaved ratios are the figures to read"
        BENCH_NOISY=1
    else
        BENCH_NOISY=0
    fi
    echo "settings:  ICAP ${BENCH_ROUNDS_TEXT}; Squid ${BENCH_SQUID_TEXT}; parts: $PARTS"
    echo "rerun:     make bench   (in the build dir; optional BENCH_SECONDS=$ICAP_SECONDS" \
         "BENCH_ROUNDS=$ICAP_ROUNDS BENCH_SQUID_SECONDS=$SQUID_SECONDS BENCH_SQUID_ROUNDS=$SQUID_ROUNDS"
    echo "           BENCH_CONNECTIONS=$ICAP_CONNECTIONS BENCH_PARTS=\"micro icap squid\"" \
         "BENCH_MICRO_QUICK=1 BENCH_PROFILE=1)"
}

# ---- part 1: micro-benchmarks ---------------------------------------------------

# micro_line FILE REGEX: the first line of FILE matching REGEX (none: empty).
micro_line() { grep -E -m 1 -- "$2" "$1" || true; }

# The verdict at the end of micro.sh's goal line matching REGEX ("?" if none).
micro_verdict() {
    local line
    line=$(micro_line "$1" "$2")
    case $line in *PASS) echo PASS ;; *MISS) echo MISS ;; *) echo "?" ;; esac
}

# "lookups/s ns/lookup" of the measurement line starting with TAG, e.g. "(A) ".
micro_measure() {
    micro_line "$1" "^ +\\($2\\) " | awk '{
        for (i = 1; i <= NF; i++) if ($i == "M") { print $(i - 1) * 1e6, $(i + 1); exit } }'
}

part_micro() {
    local script="$SRCDIR/tests/bench/micro.sh" out="$E2E_DIR/micro.txt" rc=0 quick=""
    section "micro: core lookups and table build (tests/bench/micro.sh)"
    if [[ ! -f "$script" ]]; then
        echo "SKIPPED: tests/bench/micro.sh is not in this tree yet (run it later as"
        echo "         tests/bench/micro.sh BUILDDIR SRCDIR)"
        row micro "lookup micro-benchmarks" "-" "-" "-" "-" "SKIP"
        return 0
    fi
    [[ "${BENCH_MICRO_QUICK:-0}" == 1 ]] && quick=--quick
    timeout 240 sh "$script" "$BUILDDIR" "$SRCDIR" $quick > "$out" 2>&1 || rc=$?
    sed 's/^/  /' "$out"
    if (( rc != 0 )); then
        echo "micro.sh: exit status $rc (see above)"
        row micro "micro.sh did not complete (exit $rc)" "-" "-" "-" "-" "ERROR"
        return 0
    fi
    micro_rows "$out"
}

micro_rows() {
    local out=$1 a b c a_ops a_ns b_ns c_ns ms kib heap
    a=$(micro_measure "$out" A); b=$(micro_measure "$out" B); c=$(micro_measure "$out" C)
    a_ops=${a%% *}; a_ns=${a##* }; b_ns=${b##* }; c_ns=${c##* }
    MICRO_A2=$(micro_measure "$out" A2) # the module's decision per request, for the squid part
    row micro "lookups/s: (A) index vs (B) naive fnmatch" \
        "$(awk -v v="${a_ops:-0}" 'BEGIN { printf "%.2f M", v / 1e6 }')" \
        "$(awk -v v="${b%% *}" 'BEGIN { printf "%.2f M", v / 1e6 }')" \
        "$(xratio "$b_ns" "$a_ns")" ">= 100x" "$(micro_verdict "$out" 'A vs B')"
    row micro "ns/lookup: (A) index vs (C) exact-hash floor" "${a_ns:--}" "${c_ns:--}" \
        "$(xratio "$a_ns" "$c_ns")" "<= 2.00x" "$(micro_verdict "$out" 'A / C')"
    row micro "lookups/s: (A) index, absolute" \
        "$(awk -v v="${a_ops:-0}" 'BEGIN { printf "%.2f M", v / 1e6 }')" "-" "-" ">= 20 M" \
        "$(micro_verdict "$out" 'A absolute, lookups/s +[0-9]')"
    ms=$(micro_line "$out" 'parse \+ build, median' | grep -oE '[0-9.]+ ms' | sed -n '1,1p' || true)
    row micro "table build (parse + build), ms" "${ms% ms}" "-" "-" "<= 1 ms" \
        "$(micro_verdict "$out" 'parse \+ build, median')"
    kib=$(micro_line "$out" 'memory per table: o3b_table_memory' | grep -oE '[0-9.]+ KiB' | sed -n '1,1p' || true)
    row micro "table memory, o3b_table_memory(), KiB" "${kib% KiB}" "-" "-" "<= 256 KiB" \
        "$(micro_verdict "$out" 'memory per table: o3b_table_memory')"
    heap=$(micro_line "$out" 'memory per table: heap growth' | grep -oE '[0-9.]+ KiB' | sed -n '1,1p' || true)
    if [[ -n "$heap" ]]; then
        row micro "table memory, heap growth, KiB" "${heap% KiB}" "-" "-" "<= 256 KiB" \
            "$(micro_verdict "$out" 'memory per table: heap growth')"
    fi
}

# ---- part 2: ICAP, module vs srv_echo and noop on one c-icap -------------------

# The host mix: bypassed Microsoft 365 destinations and inspected ones.
write_icap_hosts() {
    cat > "$1" <<'EOF'
# bypassed: Microsoft 365 Optimize/Allow (exact names, *.sharepoint.com, an IP literal)
outlook.office.com/owa/
outlook.office365.com/mapi/emsmdb/?MailboxId=0f1e2d3c@contoso.com
contoso.sharepoint.com/sites/team/Shared%20Documents/report.docx
contoso-my.sharepoint.com/personal/alice_contoso_com/Documents/notes.one
teams.microsoft.com/api/chatsvc/emea/v1/users/ME/conversations
login.microsoftonline.com/common/oauth2/v2.0/token
graph.microsoft.com/v1.0/me/drive/root/children
52.96.1.1/EWS/Exchange.asmx
# inspected: listed in category Default, not Microsoft, look-alikes
www.office.com/
autodiscover.contoso.onmicrosoft.com/autodiscover/autodiscover.xml
www.example.org/index.html
www.google.com/search?q=icap+preview
cdn.jsdelivr.net/npm/bootstrap@5.3.0/dist/js/bootstrap.bundle.min.js
en.wikipedia.org/wiki/Internet_Content_Adaptation_Protocol
sharepoint.com.example.org/login
evilsharepoint.com/
EOF
}
ICAP_MIX_TEXT="16 targets cycled: 8 bypassed (Microsoft 365 Optimize/Allow: exact names, *.sharepoint.com, an IP literal), 8 inspected (2 listed in category Default, 4 non-Microsoft, 2 look-alikes)"

# cpu_ticks PID: CPU time (clock ticks, user + system) of PID and its
# children: the c-icap master and its children; a Squid and its helpers
# (the fast path's o365bypass-acl processes).
cpu_ticks() {
    local pid total=0 t
    for pid in "$1" $(_child_pids "$1"); do
        t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || t=0
        total=$(( total + ${t:-0} ))
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# icap_run SERVICE KIND ROUND: one icapload run; stores its figures,
# c-icap's CPU time per request included (less disturbed by other jobs than
# req/s, though not immune: preemption costs caches and wake-ups).
icap_run() {
    local service=$1 kind=$2 round=$3 preview=0 json rc=0 key cpu0 cpu1 cpu_us
    # What Squid sends: the Preview each service advertised (echo 1024, module
    # and noop 0).
    [[ "$kind" == post && "$service" == echo ]] && preview=1024
    cpu0=$(cpu_ticks "$CICAP_PID")
    json=$(timeout $(( ICAP_SECONDS + 30 )) "$ICAPLOAD" -j \
        -u "icap://127.0.0.1:$CICAP_PORT/$service" -c "$ICAP_CONNECTIONS" \
        -n $(( ICAP_SECONDS * ICAP_MAX_RATE )) -d "$ICAP_SECONDS" -t 5 \
        -k "$kind" -F "$ICAP_HOSTS" -b "$ICAP_BODY" -p "$preview" \
        -x X-Next-Services -X 'X-O365bypass-Decision: bypass' 2> "$E2E_DIR/icapload.err") || rc=$?
    if [[ -z "$json" ]]; then
        sed 's/^/  /' "$E2E_DIR/icapload.err"
        hard_error "icapload $service $kind: no result (exit status $rc)"
    fi
    cpu1=$(cpu_ticks "$CICAP_PID")
    cpu_us=$(awk -v t=$(( cpu1 - cpu0 )) -v hz="$CLK_TCK" -v n="$(json_field "$json" requests)" \
        'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    key="icap.$kind.$service"
    add_value "$key.cpu" "$cpu_us"
    add_value "$key.rps" "$(json_field "$json" rps)"
    add_value "$key.p50" "$(json_field "$json" p50_us)"
    add_value "$key.p99" "$(json_field "$json" p99_us)"
    add_value "$key.requests" "$(json_field "$json" requests)"
    add_value "$key.errors" "$(json_field "$json" errors)"
    add_value "$key.bypass" "$(json_field "$json" match_count)"
    add_value "$key.nextsvc" "$(json_field "$json" x_count)"
    add_value "$key.s200" "$(json_field "$json" status_200)"
    printf '  %-8s %-10s %9s req/s  p50 %5s us  p99 %6s us  c-icap CPU %5s us/req  errors %s\n' \
        "$kind" "$service" "$(json_field "$json" rps)" "$(json_field "$json" p50_us)" \
        "$(json_field "$json" p99_us)" "$cpu_us" "$(json_field "$json" errors)"
}

# The three services of the ICAP part, in the order of odd rounds; even
# rounds run them backwards.  The module stays in the middle, so over two
# rounds it runs once after and once before each baseline, and echo and noop
# swap first and last: slow drift hits every pair alike.
ICAP_SERVICES=(echo o365bypass noop)

icap_rounds() {
    local round kind i service
    for (( round = 1; round <= ICAP_ROUNDS; round++ )); do
        echo " round $round/$ICAP_ROUNDS"
        for kind in get post connect; do
            for (( i = 0; i < 3; i++ )); do
                if (( round % 2 )); then service=${ICAP_SERVICES[i]}; else service=${ICAP_SERVICES[2 - i]}; fi
                icap_run "$service" "$kind" "$round"
            done
            icap_pair "$kind"
        done
    done
}

# last_value KEY: the latest figure stored under KEY.
last_value() { local v=${VALUES[$1]:-}; echo "${v##* }"; }

# icap_pair KIND: this round's ratios module/echo, module/noop and noop/echo
# (paired: the runs were back to back, so slow drift of the machine cancels
# out), under icap.KIND.pair-A-B.METRIC.
icap_pair() {
    local metric a b
    for metric in rps p50 p99 cpu; do
        for a in o365bypass:echo o365bypass:noop noop:echo; do
            b=${a#*:}; a=${a%%:*}
            add_value "icap.$1.pair-$a-$b.$metric" \
                "$(ratio "$(last_value "icap.$1.$a.$metric")" "$(last_value "icap.$1.$b.$metric")")"
        done
    done
}

sum_values() { tr ' ' '\n' <<< "${VALUES[$1]:-}" | awk '{ s += $1 } END { printf "%.0f", s }'; }

# The display name of a service in the table.
icap_name() { case $1 in o365bypass) echo module ;; echo) echo srv_echo ;; *) echo "$1" ;; esac; }

# icap_row KIND LABEL METRIC A B GOAL: one row, A's median against B's; the
# ratio is the median of the per-round A/B ratios.  GOAL "" means info.
icap_row() {
    local kind=$1 label=$2 metric=$3 a=$4 b=$5 goal=$6 r va vb what
    r=$(median "icap.$kind.pair-$a-$b.$metric")
    va=$(median "icap.$kind.$a.$metric"); vb=$(median "icap.$kind.$b.$metric")
    case $metric in
        rps) what="req/s"; va=$(fmt_int "$va"); vb=$(fmt_int "$vb") ;;
        cpu) what="c-icap CPU us/req" ;;
        *) what="$metric us"; va=$(fmt_int "$va"); vb=$(fmt_int "$vb") ;;
    esac
    if [[ -n "$goal" ]]; then
        row icap "$label $what, $(icap_name "$a") / $(icap_name "$b")" "${va:--}" "${vb:--}" \
            "$(xr "$r")" ">= ${goal}x" "$(verdict "$r" '>=' "$goal")"
    else
        row icap "$label $what, $(icap_name "$a") / $(icap_name "$b")" "${va:--}" "${vb:--}" \
            "$(xr "$r")" "-" "info"
    fi
}

# The ICAP rows: values are medians over the rounds; the ratio is the median
# of the per-round (paired) ratios, which the machine's drift disturbs less.
# The goals are the module against srv_echo; against noop and noop against
# srv_echo are information: where the module's figure comes from.
icap_rows() {
    local kind label goal p
    note "icap reading: module / srv_echo is the goal; module / noop is the module's own cost over the floor (noop answers 204 in the preview and does nothing else: 1.00x = no measurable cost); noop / srv_echo is what a service that does nothing gets vs srv_echo"
    note "icap reading: module / srv_echo ~ (module / noop) x (noop / srv_echo): where a goal misses, module / noop is the part the module costs, noop / srv_echo the part a service doing nothing misses by too (c-icap and noise, not the module)"
    for kind in get post connect; do
        case $kind in
            get) label="GET header-only"; goal=1.00 ;;
            post) label="POST 4 KiB"; goal=1.50 ;;
            connect) label="CONNECT"; goal="" ;;
        esac
        icap_row "$kind" "$label" rps o365bypass echo "$goal"
        icap_row "$kind" "$label" rps o365bypass noop ""
        icap_row "$kind" "$label" rps noop echo ""
        for p in p50 p99; do icap_row "$kind" "$label" "$p" o365bypass echo ""; done
        icap_row "$kind" "$label" cpu o365bypass echo ""
        icap_row "$kind" "$label" cpu o365bypass noop ""
        icap_row "$kind" "$label" cpu noop echo ""
        note "icap $kind req/s per round: module/echo ${VALUES[icap.$kind.pair-o365bypass-echo.rps]}${goal:+$(straddles "icap.$kind.pair-o365bypass-echo.rps" "$goal")}; module/noop ${VALUES[icap.$kind.pair-o365bypass-noop.rps]}; noop/echo ${VALUES[icap.$kind.pair-noop-echo.rps]}"
    done
}

# xr RATIO: the ratio with an "x" ("-" when there is none).
xr() { awk -v r="${1:-}" 'BEGIN { if (r == "" || r == "-") print "-"; else printf "%.2fx\n", r }'; }

# straddles KEY GOAL: a remark when the per-round ratios lie on both sides of GOAL.
straddles() {
    awk -v g="$2" -v list="${VALUES[$1]:-}" 'BEGIN {
        n = split(list, v, " "); lo = 0; hi = 0
        for (i = 1; i <= n; i++) { if (v[i] + 0 < g + 0) lo++; else hi++ }
        if (lo && hi) printf " (rounds on both sides of %sx: within the noise of this machine)", g }'
}

icap_notes() {
    local kind req byp nxt err s200 ereq spreads=""
    for kind in get post connect; do
        req=$(sum_values "icap.$kind.o365bypass.requests")
        byp=$(sum_values "icap.$kind.o365bypass.bypass")
        nxt=$(sum_values "icap.$kind.o365bypass.nextsvc")
        err=$(( $(sum_values "icap.$kind.o365bypass.errors") + $(sum_values "icap.$kind.echo.errors") \
            + $(sum_values "icap.$kind.noop.errors") ))
        note "icap $kind: module bypassed $(awk -v b="$byp" -v r="$req" 'BEGIN { printf "%.1f", r ? 100 * b / r : 0 }')% of $req requests (X-Next-Services on $nxt); errors $err (all three services)"
        spreads+=" $kind module $(spread "icap.$kind.o365bypass.rps") echo $(spread "icap.$kind.echo.rps") noop $(spread "icap.$kind.noop.rps");"
    done
    s200=$(sum_values icap.post.echo.s200); ereq=$(sum_values icap.post.echo.requests)
    note "icap post: srv_echo echoed $(awk -v a="$s200" -v r="$ereq" 'BEGIN { printf "%.0f", r ? 100 * a / r : 0 }')% of the bodies (it answers every other request 204 in the preview); the module and noop answer 204 at Preview: 0 and read no body byte"
    note "icap req/s spread (max-min)/median over the rounds:${spreads%;}"
    note "icap mix: $ICAP_MIX_TEXT"
}

# perf profile of the c-icap children while they serve the module.
icap_profile() {
    local pids data="$E2E_DIR/perf.data"
    command -v perf > /dev/null || { echo "  BENCH_PROFILE: perf not installed"; return 0; }
    pids=$(_child_pids "$CICAP_PID" | paste -sd, -)
    [[ -n "$pids" ]] || { echo "  BENCH_PROFILE: no c-icap child found"; return 0; }
    echo " profile: perf record -g on c-icap children $pids, module, 4 KiB POSTs, ${ICAP_SECONDS}s"
    perf record -q -F 499 -g -p "$pids" -o "$data" -- sleep "$ICAP_SECONDS" > /dev/null 2>&1 &
    local perf_pid=$!
    e2e_track_load "$perf_pid"
    BENCH_WARMUP=1
    icap_run o365bypass post profile > /dev/null
    BENCH_WARMUP=0
    wait "$perf_pid" 2> /dev/null || true
    perf_top "$data" 8 dso
    perf_top "$data" 20 dso,sym -g none
}

# perf_top DATA LINES SORT [OPTION...]: the first LINES rows of perf's
# self-time report of DATA sorted by SORT (dso: "by shared object").
perf_top() {
    local data=$1 lines=$2 sort=$3
    shift 3
    [[ "$sort" == dso ]] && echo "  by shared object (self time):" || echo "  top functions (self time):"
    perf report -i "$data" --stdio --no-children --sort "$sort" "$@" 2> /dev/null \
        | grep -E '^ +[0-9.]+%' | sed -n "1,${lines}p" | cut -c1-110 | sed 's/^/  /' || true
}

part_icap() {
    section "icap: the module vs srv_echo and noop on one c-icap instance"
    if [[ ! -x "$ICAPLOAD" || ! -f "$O3B_MODULE" || ! -f "$NOOP_MODULE" ]]; then
        echo "SKIPPED: build tests/bench/icapload, tests/bench/srv_noop.la and the module first (make bench does)"
        row icap "ICAP throughput" "-" "-" "-" "-" "SKIP"; return 0
    fi
    if [[ ! -x "$CICAP_SERVER" ]]; then
        echo "SKIPPED: c-icap not installed ($CICAP_SERVER)"
        row icap "ICAP throughput" "-" "-" "-" "-" "SKIP"; return 0
    fi
    ICAP_HOSTS="$E2E_DIR/icap-hosts.txt"
    write_icap_hosts "$ICAP_HOSTS"
    local lines
    mapfile -t lines < <(module_lines)
    start_cicap "StartServers 1" "MaxServers 1" "ThreadsPerChild 10" "MinSpareThreads 1" \
        "MaxSpareThreads 10" "MaxRequestsPerChild 0" "MaxKeepAliveRequests 0" "${lines[@]}" \
        "Service noop $NOOP_MODULE"
    cicap_service_ok o365bypass || hard_error "c-icap does not serve o365bypass ($O3B_MODULE)"
    cicap_service_ok noop || hard_error "c-icap does not serve noop ($NOOP_MODULE)"
    echo "c-icap $CICAP_PORT: 1 child x 10 threads, MaxKeepAliveRequests 0, no access log;" \
         "icapload $ICAP_CONNECTIONS connections, ${ICAP_SECONDS}s per run, $ICAP_ROUNDS rounds"
    echo "services: echo (srv_echo, the goals' baseline), o365bypass (the module), noop" \
         "(tests/bench/srv_noop.c: 204 in the preview, nothing else); odd rounds in this order," \
         "even rounds backwards"
    echo "mix: $ICAP_MIX_TEXT"
    # warm-up: every service, one short run each (not counted)
    local saved=$ICAP_SECONDS service
    ICAP_SECONDS=1 BENCH_WARMUP=1
    for service in "${ICAP_SERVICES[@]}"; do icap_run "$service" get warmup > /dev/null; done
    ICAP_SECONDS=$saved BENCH_WARMUP=0
    icap_rounds
    icap_rows
    icap_notes
    [[ "${BENCH_PROFILE:-0}" == 1 ]] && icap_profile
    cicap_stop "$CICAP_PID"
    CICAP_PORT=""
}

# ---- part 3: end to end through Squid ------------------------------------------

# Start tests/bench/bench_origin on ADDR:80 (127.0.0.42, else a random
# 127.42.x.y); sets ORIGIN_ADDR and ORIGIN_PID like start_origin.
start_fast_origin() {
    local addr try ready="$E2E_DIR/origin.ready"
    for (( try = 0; try < 4; try++ )); do
        addr=127.0.0.42
        (( try > 0 )) && addr="127.42.$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))"
        rm -f "$ready"
        "$ORIGIN_BIN" --addr "$addr" --port 80 --ready-file "$ready" >> "$E2E_DIR/origin.log" 2>&1 &
        ORIGIN_PID=$!
        _e2e_register origin "$ORIGIN_PID"
        wait_until 5 _origin_ready "$ORIGIN_PID" "$ready" || true
        if _pid_alive "$ORIGIN_PID" && _tcp_accepts "$addr" 80; then
            ORIGIN_ADDR=$addr
            export ORIGIN_ADDR ORIGIN_PID
            return 0
        fi
        stop_pid "$ORIGIN_PID" 2
        _e2e_forget "$ORIGIN_PID"
    done
    hard_error "bench_origin did not start (see origin.log)"
}

# wrk scripts: the absolute URL in the request line, bounded count, one
# parseable result line.
write_wrk_script() {
    local file=$1 method=$2 path=$3 body=$4 limit=$5
    {
        echo "wrk.method = \"$method\""
        echo "wrk.path = \"http://$SQUID_HOST$path\""
        echo "wrk.headers[\"Host\"] = \"$SQUID_HOST\""
        if (( body > 0 )); then
            echo "wrk.headers[\"Content-Type\"] = \"application/octet-stream\""
            echo "wrk.body = string.rep(\"x\", $body)"
        fi
        cat <<EOF
local done_count, limit = 0, $limit
response = function(status, headers, body)
    done_count = done_count + 1
    if done_count >= limit then wrk.thread:stop() end
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d"
        .. " connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status, e.connect, e.read, e.write, e.timeout))
end
EOF
    } > "$file"
}

# The c-icap per-service counters: "echo_req echo_resp mod_req mod_resp".
icap_counters() {
    timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s "info?view=text" -req http://x/ 2>/dev/null \
        | awk -F' : ' '
            /^Service echo REQMODS/ { er = $2 } /^Service echo RESPMODS/ { es = $2 }
            /^Service o365bypass REQMODS/ { mr = $2 } /^Service o365bypass RESPMODS/ { ms = $2 }
            END { print er + 0, es + 0, mr + 0, ms + 0 }' || true
}

# squid_run MODE KIND: one wrk run through the Squid of MODE; stores figures.
squid_run() {
    local mode=$1 kind=$2 port=${SQUID_PORTS[$1]} out before after conns=8 line cpu0 cpu1
    [[ "$kind" == post ]] && conns=4
    before=$(icap_counters)
    cpu0=$(cpu_ticks "${SQUID_PIDS[$mode]}")
    out=$(timeout $(( SQUID_SECONDS + 30 )) wrk -t 1 -c "$conns" -d "${SQUID_SECONDS}s" --timeout 10s \
        -s "$E2E_DIR/wrk-$kind.lua" "http://127.0.0.1:$port/" 2>&1) || true
    cpu1=$(cpu_ticks "${SQUID_PIDS[$mode]}")
    after=$(icap_counters)
    line=$(grep '^WRK ' <<< "$out" || true)
    [[ -n "$line" ]] || { printf '%s\n' "$out" | sed 's/^/  /'; hard_error "wrk through Squid ($mode, $kind) gave no result"; }
    local req dur p50 p99 err non2xx a b
    req=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$line")
    dur=$(sed -n 's/.* duration_us=\([0-9]*\).*/\1/p' <<< "$line")
    p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<< "$line")
    p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<< "$line")
    err=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<< "$line")
    non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<< "$line")
    local rps key="squid.$kind.$mode"
    rps=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.1f", (d > 0 ? r * 1e6 / d : 0) }')
    add_value "$key.rps" "$rps"
    add_value "$key.p50" "$p50"
    add_value "$key.p99" "$p99"
    add_value "$key.requests" "$req"
    add_value "$key.cpu" "$(awk -v t=$(( cpu1 - cpu0 )) -v hz="$CLK_TCK" -v n="$req" \
        'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')"
    add_value "$key.errors" "$(( err + non2xx ))"
    add_value "$key.non2xx" "$non2xx"
    read -r -a b <<< "$before"; read -r -a a <<< "$after"
    add_value "$key.echo" "$(( a[0] - b[0] + a[1] - b[1] ))"
    add_value "$key.module" "$(( a[2] - b[2] + a[3] - b[3] ))"
    printf '  %-5s %-9s %8s req/s  p50 %7s us  p99 %7s us  Squid CPU %6s us/req  errors %s  ICAP: module %s, stand-in %s\n' \
        "$kind" "$mode" "$rps" "$p50" "$p99" "$(last_value "$key.cpu")" "$(( err + non2xx ))" \
        "$(( a[2] - b[2] + a[3] - b[3] ))" "$(( a[0] - b[0] + a[1] - b[1] ))"
}

# A mode ending in -glibc is the mode before it on glibc's default heap
# settings (no conf/squid-heap.conf environment).
SQUID_MODES=(none chain dlp-only fast floor fast-full none-glibc fast-glibc)

squid_rounds() {
    local round kind i n=${#SQUID_MODES[@]} order
    for (( round = 1; round <= SQUID_ROUNDS; round++ )); do
        echo " round $round/$SQUID_ROUNDS"
        for kind in get post; do
            # rotate the order of the modes from round to round
            for (( i = 0; i < n; i++ )); do
                order=${SQUID_MODES[$(( (i + round - 1) % n ))]}
                squid_run "$order" "$kind"
            done
            squid_pair "$kind"
        done
    done
}

# squid_pair KIND: this round's ratios of the chain to each baseline and of
# the fast path to no adaptation and to the chain, as squid.KIND.pair-A-B.METRIC.
squid_pair() {
    local metric pair a b
    for metric in rps p50 p99 cpu; do
        for pair in chain:none chain:dlp-only fast:none fast:chain fast:floor floor:none \
            fast-full:none fast-full:floor fast-glibc:none-glibc fast:fast-glibc none:none-glibc; do
            a=${pair%%:*}; b=${pair#*:}
            add_value "squid.$1.pair-$a-$b.$metric" \
                "$(ratio "$(last_value "squid.$1.$a.$metric")" "$(last_value "squid.$1.$b.$metric")")"
        done
    done
}

# The Squid rows: medians over the rounds, ratio = median of per-round ratios.
squid_rows() {
    local kind label metric unit base name
    for kind in get post; do
        [[ "$kind" == get ]] && label="M365 GET" || label="M365 POST 1 MiB"
        for metric in rps p50 p99; do
            case $metric in rps) unit="req/s" ;; *) unit="$metric us" ;; esac
            for base in none dlp-only; do
                [[ "$base" == none ]] && name="(ii) chain / (i) none" \
                    || name="(ii) chain / (iii) stand-in"
                row squid "$label $unit, $name" "$(fmt_int "$(median "squid.$kind.chain.$metric")")" \
                    "$(fmt_int "$(median "squid.$kind.$base.$metric")")" \
                    "$(xr "$(median "squid.$kind.pair-chain-$base.$metric")")" "-" "info"
            done
        done
    done
    fast_row get "M365 GET req/s, (iv) fast / (i) none" rps none 0.85
    fast_row get "M365 GET req/s, (iv) fast / (ii) chain" rps chain 1.8
    fast_row post "M365 POST 1 MiB req/s, (iv) fast / (i) none" rps none 0.9
    fast_row get "M365 GET p50 us, (iv) fast / (i) none" p50 none ""
    fast_row get "M365 GET p99 us, (iv) fast / (i) none" p99 none ""
    fast_row post "M365 POST 1 MiB req/s, (iv) fast / (ii) chain" rps chain ""
    fast_row get "M365 GET req/s, (iv) fast / (v) floor" rps floor ""
    pair_row get "M365 GET req/s, (v) floor / (i) none" floor none
    cpu_row get "M365 GET Squid CPU us/req, (ii) chain / (i) none" chain none
    cpu_row get "M365 GET Squid CPU us/req, (iv) fast / (i) none" fast none
    cpu_row get "M365 GET Squid CPU us/req, (v) floor / (i) none" floor none
    cpu_row get "M365 GET Squid CPU us/req, (iv) fast / (v) floor" fast floor
    pair_row get "M365 GET req/s, (vi) fast without --brief / (i) none" fast-full none
    cpu_row get "M365 GET Squid CPU us/req, (vi) without --brief / (v) floor" fast-full floor
    pair_row get "M365 GET req/s, (viii) / (vii): glibc heap defaults" fast-glibc none-glibc
    pair_row post "M365 POST 1 MiB req/s, (viii) / (vii): glibc defaults" fast-glibc none-glibc
    cpu_row get "M365 GET Squid CPU us/req, (viii) / (vii): glibc defaults" fast-glibc none-glibc
    cpu_row get "M365 GET Squid CPU us/req, (iv) fast / (viii) fast-glibc" fast fast-glibc
    cpu_row get "M365 GET Squid CPU us/req, (i) none / (vii) none-glibc" none none-glibc
}

# cpu_row KIND LABEL A B: Squid's CPU per request (with its helpers), A
# against B (info; less disturbed by other jobs than req/s).
cpu_row() {
    row squid "$2" "$(median "squid.$1.$3.cpu")" "$(median "squid.$1.$4.cpu")" \
        "$(xr "$(median "squid.$1.pair-$3-$4.cpu")")" "-" "info"
}

# pair_row KIND LABEL A B: mode A against mode B (info).
pair_row() {
    row squid "$2" "$(fmt_int "$(median "squid.$1.$3.rps")")" "$(fmt_int "$(median "squid.$1.$4.rps")")" \
        "$(xr "$(median "squid.$1.pair-$3-$4.rps")")" "-" "info"
}

# fast_row KIND LABEL METRIC BASE GOAL: the fast path against BASE ("" = info).
fast_row() {
    local r
    r=$(median "squid.$1.pair-fast-$4.$3")
    row squid "$2" "$(fmt_int "$(median "squid.$1.fast.$3")")" "$(fmt_int "$(median "squid.$1.$4.$3")")" \
        "$(xr "$r")" "$( [[ -n "$5" ]] && echo ">= ${5}x" || echo -)" \
        "$( [[ -n "$5" ]] && verdict "$r" '>=' "$5" || echo info)"
    [[ -n "$5" ]] && note "squid $2: per-round ratios ${VALUES[squid.$1.pair-fast-$4.$3]:-}$(straddles "squid.$1.pair-fast-$4.$3" "$5")"
    return 0
}

squid_notes() {
    local kind mode req echo_n mod_n err non2xx
    for kind in get post; do
        for mode in "${SQUID_MODES[@]}"; do
            req=$(sum_values "squid.$kind.$mode.requests")
            echo_n=$(sum_values "squid.$kind.$mode.echo")
            mod_n=$(sum_values "squid.$kind.$mode.module")
            err=$(sum_values "squid.$kind.$mode.errors")
            non2xx=$(sum_values "squid.$kind.$mode.non2xx")
            note "squid $kind $mode: $req requests, errors $err ($non2xx non-2xx answers, $(( err - non2xx )) socket errors/timeouts); ICAP transactions per request: module $(awk -v a="$mod_n" -v r="$req" 'BEGIN { printf "%.2f", r ? a / r : 0 }'), stand-in $(awk -v a="$echo_n" -v r="$req" 'BEGIN { printf "%.2f", r ? a / r : 0 }')"
        done
    done
    note "squid: wrk 1 thread, 8 connections (GET) / 4 (POST), ${SQUID_SECONDS}s per run, $SQUID_ROUNDS rounds, modes rotated; origin tests/bench/bench_origin (C, epoll) on $ORIGIN_ADDR:80; Squid access_log none; c-icap 2 children x 64 threads; Squid environment: conf/squid-heap.conf's, except the -glibc modes"
}

part_squid() {
    section "squid: end to end through Squid on loopback"
    if [[ $(id -u) -ne 0 ]]; then
        echo "SKIPPED: needs root (origin on port 80, Squid drops to user proxy)"
        row squid "end to end through Squid" "-" "-" "-" "-" "SKIP"; return 0
    fi
    local tool
    for tool in "$SQUID" "$CICAP_SERVER" "$CICAP_CLIENT" curl; do
        if ! command -v "$tool" > /dev/null 2>&1; then
            echo "SKIPPED: $tool not found"
            row squid "end to end through Squid" "-" "-" "-" "-" "SKIP"; return 0
        fi
    done
    id proxy > /dev/null 2>&1 || { echo "SKIPPED: no user proxy"; row squid "end to end" "-" "-" "-" "-" "SKIP"; return 0; }
    if ! command -v wrk > /dev/null 2>&1; then
        echo "installing wrk (apt-get install -y wrk)"
        timeout 180 apt-get install -y -q wrk > "$E2E_DIR/apt.log" 2>&1 || true
        if ! command -v wrk > /dev/null 2>&1; then
            echo "SKIPPED: wrk is not installed and apt-get could not install it (see the log)"
            row squid "end to end through Squid" "-" "-" "-" "-" "SKIP"; return 0
        fi
    fi
    [[ -x "$ORIGIN_BIN" ]] || hard_error "tests/bench/bench_origin not built"
    start_fast_origin
    local lines mode
    mapfile -t lines < <(module_lines)
    start_cicap "StartServers 2" "MaxServers 2" "ThreadsPerChild 64" "MinSpareThreads 4" \
        "MaxSpareThreads 128" "MaxRequestsPerChild 0" "MaxKeepAliveRequests 0" "${lines[@]}"
    cicap_service_ok o365bypass || hard_error "c-icap does not serve o365bypass ($O3B_MODULE)"
    declare -gA SQUID_PORTS=() SQUID_PIDS=()
    local heap_env
    heap_env=$(squid_heap_env)
    for mode in "${SQUID_MODES[@]}"; do
        if [[ "$mode" == *-glibc ]]; then
            E2E_SQUID_ENV="" start_squid "${mode%-glibc}"
        else
            E2E_SQUID_ENV="$heap_env" start_squid "$mode"
        fi
        SQUID_PORTS[$mode]=$SQUID_PORT  # set by start_squid
        SQUID_PIDS[$mode]=$SQUID_PID
    done
    echo "origin $ORIGIN_ADDR:80 (bench_origin); c-icap $CICAP_PORT; Squid none :${SQUID_PORTS[none]}," \
         "chain :${SQUID_PORTS[chain]}, dlp-only :${SQUID_PORTS[dlp-only]}, fast :${SQUID_PORTS[fast]}" \
         "(conf/squid-o365bypass-acl.conf), floor :${SQUID_PORTS[floor]}, fast-full :${SQUID_PORTS[fast-full]}," \
         "none-glibc :${SQUID_PORTS[none-glibc]}, fast-glibc :${SQUID_PORTS[fast-glibc]}"
    echo "heap: every Squid but none-glibc and fast-glibc runs with $heap_env (conf/squid-heap.conf)"
    echo "load: wrk through the proxy, request line GET/POST http://$SQUID_HOST/bench/... ($SQUID_HOST -> $ORIGIN_ADDR in hosts_file)"
    local limit=$(( SQUID_SECONDS * SQUID_MAX_RATE ))
    write_wrk_script "$E2E_DIR/wrk-get.lua" GET /bench/get 0 "$limit"
    write_wrk_script "$E2E_DIR/wrk-post.lua" POST /bench/upload "$SQUID_BODY" "$limit"
    # warm-up (not counted): every Squid opens its server and ICAP connections
    local saved=$SQUID_SECONDS
    SQUID_SECONDS=1 BENCH_WARMUP=1
    for mode in "${SQUID_MODES[@]}"; do squid_run "$mode" get > /dev/null; done
    SQUID_SECONDS=$saved BENCH_WARMUP=0
    squid_rounds
    squid_rows
    squid_notes
    [[ "${BENCH_PROFILE:-0}" == 1 ]] && squid_profile
    acl_cost
}

# BENCH_PROFILE=1: where Squid's time goes in modes none, floor and fast
# (one GET run each): perf's top functions (self time) and the system calls
# per request (strace -c, a separate, slower run).  Runs after the rows are
# made, so its figures never reach the table.
squid_profile() {
    local mode data out req
    command -v perf > /dev/null || { echo "  BENCH_PROFILE: perf not installed"; return 0; }
    for mode in none floor fast; do
        data="$E2E_DIR/perf-squid-$mode.data"
        echo " profile: perf record on Squid ($mode, pid ${SQUID_PIDS[$mode]}), GET, ${SQUID_SECONDS}s"
        perf record -q -F 999 -p "${SQUID_PIDS[$mode]}" -o "$data" -- sleep "$SQUID_SECONDS" > /dev/null 2>&1 &
        local perf_pid=$!
        e2e_track_load "$perf_pid"
        squid_run "$mode" get > /dev/null
        wait "$perf_pid" 2> /dev/null || true
        perf_top "$data" 6 dso
        perf_top "$data" 25 sym
        if command -v strace > /dev/null; then
            out="$E2E_DIR/strace-squid-$mode.txt"
            timeout $(( SQUID_SECONDS + 20 )) strace -c -f -o "$out" -p "${SQUID_PIDS[$mode]}" &
            local strace_pid=$!
            e2e_track_load "$strace_pid"
            sleep 0.5
            squid_run "$mode" get > /dev/null
            req=$(last_value "squid.get.$mode.requests")
            kill -INT "$strace_pid" 2> /dev/null || true
            wait "$strace_pid" 2> /dev/null || true
            echo "  system calls per request under strace ($req requests):"
            # strace -c rows: % time, seconds, usecs/call, calls, [errors,] name
            awk -v n="$req" 'n > 0 && $1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9]+$/ {
                    printf "    %-16s %6.2f\n", $NF, $4 / n }' "$out" | head -n 14 || true
        fi
    done
}

# The helper's own cost, cold (tests/bench/bench_acl on the binary), next to
# the module's per-request decision (micro A2: parse, decide, format).
acl_cost() {
    local conf="$E2E_DIR/acl-bench.conf" out line v base
    if [[ ! -x "$ACL_BENCH" || ! -x "$O3B_ACL" ]]; then
        echo "SKIPPED: the helper's cost (build o365bypass-acl and tests/bench/bench_acl)"
        row squid "helper cost (bench_acl)" "-" "-" "-" "-" "SKIP"; return 0
    fi
    printf '%s\n' "o365bypass.SeedFile $SRCDIR/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir none" "o365bypass.RefreshInterval 0" > "$conf"
    echo " helper cost: tests/bench/bench_acl $ACL_KEYS distinct keys through o365bypass-acl"
    out=$(timeout 120 "$ACL_BENCH" "$O3B_ACL" "$conf" "$ACL_KEYS" 2> "$E2E_DIR/bench_acl.err") || {
        sed 's/^/  /' "$E2E_DIR/bench_acl.err"
        row squid "helper cost (bench_acl failed)" "-" "-" "-" "-" "ERROR"; return 0; }
    sed 's/^/  /' <<< "$out" | grep -v ACLBENCH
    line=$(grep '^ACLBENCH ' <<< "$out")
    v() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $line"; } # one field of the ACLBENCH line
    base=$(awk -v ns="${MICRO_A2##* }" 'BEGIN { if (ns == "" || ns + 0 == 0) print "-"; else printf "%.3f", ns / 1000 }')
    row squid "helper answers/s, cold keys (one process)" "$(fmt_int "$(v answers_per_s)")" "-" "-" "-" "info"
    row squid "helper CPU us/answer, cold / module decision (A2)" "$(v cpu_us)" "$base" \
        "$(xratio "$(v cpu_us)" "$base")" "-" "info"
    row squid "helper round trip p50 us (one lookup at a time)" "$(v rtt_p50_us)" "-" "-" "-" "info"
    row squid "helper start-up ms (spawn to first answer)" "$(v startup_ms)" "-" "-" "-" "info"
    note "squid helper cost: $(v keys) distinct keys of the real table (instances of its hosts and patterns, unlisted names, listed addresses; $(v ok) bypassed, $(v err) inspected), all written at once with channel IDs; CPU = the helper's user+system time less start-up; A2 = the module's parse + decide + format per request (micro part; '-' when it did not run)"
}

# ---- the table ------------------------------------------------------------------

print_summary() {
    local r f
    section "summary"
    printf '%-6s %-54s %10s %10s %7s %10s %s\n' part measurement value baseline ratio goal result
    for r in "${SUMMARY[@]}"; do
        IFS='|' read -r -a f <<< "$r"
        printf '%-6s %-54s %10s %10s %7s %10s %s\n' "${f[@]}"
    done
    echo
    echo "ratio = value / baseline.  icap: baselines srv_echo (the goals) and noop (a service"
    echo "  that does nothing) on the same c-icap, medians of interleaved runs; micro: naive"
    echo "  fnmatch scan and one exact-hash probe; squid: (i) Squid without adaptation, (ii)"
    echo "  the module chain, (iii) Squid with the inspection stand-in only; (iv) fast is the"
    echo "  fast path (the o365bypass-acl helper + the chain for the rest); (v) floor is the"
    echo "  fast path's squid.conf with every adaptation denied and no helper: Squid's own"
    echo "  cost of configured adaptation, which no helper can go below; (vi) is (iv)"
    echo "  without the helper's --brief (every note in each answer).  Every Squid runs with"
    echo "  conf/squid-heap.conf's GLIBC_TUNABLES except (vii) none and (viii) fast on glibc's"
    echo "  default heap settings (glibc trims the heap after most requests there)."
    for r in "${NOTES[@]}"; do echo "- $r"; done
    local goals missed
    goals=$(printf '%s\n' "${SUMMARY[@]}" | awk -F'|' '$7 == "PASS" || $7 == "MISS"' | wc -l)
    missed=$(printf '%s\n' "${SUMMARY[@]}" | awk -F'|' '$7 == "MISS" { print "  MISS: " $1 ": " $2 }')
    echo
    echo "goals: $(( goals - $(grep -c MISS <<< "$missed" || true) )) of $goals PASS"
    [[ -n "$missed" ]] && echo "$missed"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)$( (( BENCH_NOISY )) && echo " (the machine was busy: see the header)")"
    echo "elapsed: $(( SECONDS - T_START )) s"
}

# ---- main -------------------------------------------------------------------------

main() {
    BENCH_ROUNDS_TEXT="$ICAP_ROUNDS rounds x 3 kinds x 3 services x ${ICAP_SECONDS}s"
    BENCH_SQUID_TEXT="$SQUID_ROUNDS rounds x 2 kinds x ${#SQUID_MODES[@]} modes x ${SQUID_SECONDS}s"
    bench_init
    print_header
    local part t0
    for part in micro icap squid; do
        [[ " $PARTS " == *" $part "* ]] || continue
        t0=$SECONDS
        "part_$part"
        echo "(part $part: $(( SECONDS - t0 )) s)"
    done
    print_summary
    if [[ -n "$TEE_PID" ]]; then
        exec >&2               # close the pipe: tee finishes writing the copy
        wait "$TEE_PID" 2> /dev/null || true
    fi
}

main "$@"
