#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-config-errors.sh - a bad o365bypass value stops c-icap (or the service), and says which.
#
# For each bad directive value c-icap is started in the foreground
# (`c-icap -N -f CONF`, as a service manager would) with an otherwise good
# configuration.  It must stop by itself within 10 s, never answer on its
# port, and its output must name the directive (o365bypass.Name) and the
# value.  Run a second time with -D (c-icap's debug output on stdout), the
# output must also carry c-icap's own "Fatal error while parsing config
# file ... The line is: ..." for that line.
#
# Known c-icap 0.5.10 behaviour, checked here so a change is noticed:
# config() ends with exit(0) after "Error opening/parsing config file", so
# the exit status of a refused configuration is 0, not an error status; and
# ServerLog is not open yet, so the reason is only on stdout/stderr.
#
# Then a SeedFile that does not exist, with an empty CacheDir: c-icap starts
# anyway with an EMPTY table (OPTIONS: sets=0 entries=0), bypasses nothing,
# and logs the reason at DebugLevel 1.
#
# Last, what only the whole configuration can tell: a plain http:// ServiceURL
# on a host that is not loopback is refused once all lines are read (an
# AllowHttpServiceURL line may come after it), so c-icap runs on but refuses
# the o365bypass service (ICAP 500 to OPTIONS and REQMOD, never a bypass;
# Squid's bypass=on then sends everything to inspection), and says why on
# stderr and in the ServerLog, naming o365bypass.ServiceURL and the value.
# With `AllowHttpServiceURL on` after the ServiceURL line it serves.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

SEED=$top_srcdir/module/data/endpoints-worldwide.json
# directive|value as written in the file|value as the message quotes it
BAD_VALUES=(
    'RefreshInterval|30|30'
    'Instance|Mars|Mars'
    'BypassCategories|Optimise|Optimise'
    'ServiceURL|ftp://x|ftp://x'
    'ClientRequestId|b10c5ed1-bad1-445f-b386-b919946339a7|b10c5ed1-bad1-445f-b386-b919946339a7'
    'AlsoBypass|"*"|*'
    'MaxShrinkPercent|101|101'
    'TenantName|"bad_name"|bad_name'
    'SeedFile|relative/path|relative/path'
    'DecryptedRequests|bypass|bypass'
)
STOP_LIMIT_S=10

e2e_init config-errors
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"

# write_conf DIR PORT LINE...: a complete c-icap.conf (lib.sh's base lines).
write_conf() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir/tmp" "$dir/cache"
    _cicap_write_conf "$dir" "$port" \
        "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.CacheDir $dir/cache" \
        "o365bypass.RefreshInterval 0" \
        "$@"
}

# run_refused DIR PORT OUT [C-ICAP OPTIONS...]: start c-icap, expect it to
# stop by itself; RUN_STATUS (124: still running after STOP_LIMIT_S, then
# stopped by timeout), RUN_SECONDS, RUN_SERVED (did the port ever answer).
run_refused() {
    local dir=$1 port=$2 out=$3 pid t0=$EPOCHREALTIME i
    shift 3
    timeout -k 2 "$STOP_LIMIT_S" "$CICAP_SERVER" -N "$@" -f "$dir/c-icap.conf" > "$out" 2>&1 &
    pid=$!
    RUN_SERVED=no
    for (( i = 0; i < STOP_LIMIT_S * 10 + 30; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        _tcp_accepts 127.0.0.1 "$port" && RUN_SERVED=yes
        sleep 0.1
    done
    RUN_STATUS=0
    wait "$pid" || RUN_STATUS=$?
    RUN_SECONDS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

check_bad_value() {
    local directive=$1 written=$2 quoted=$3 dir port what message
    dir="$E2E_DIR/$directive"
    what="o365bypass.$directive $written"
    port=$(free_port) || hard_error "no free port"
    write_conf "$dir" "$port" "o365bypass.$directive $written"

    run_refused "$dir" "$port" "$dir/plain.out"
    check_eq no "$RUN_SERVED" "$what: c-icap answered on its port"
    if (( RUN_STATUS == 124 || RUN_STATUS == 137 )); then
        check_eq "stopped" "still running after ${STOP_LIMIT_S}s" "$what: c-icap stops by itself"
    fi
    message=$(grep -m1 -F "o365bypass.$directive: " "$dir/plain.out" || true)
    check_contains "o365bypass.$directive: " "$message" "$what: output names the directive"
    check_contains "'$quoted'" "$message" "$what: output names the value"

    run_refused "$dir" "$port" "$dir/debug.out" -D -d 1
    check_contains "Fatal error while parsing config file" "$(cat "$dir/debug.out")" \
        "$what: c-icap's own parse error (-D)"
    check_contains "The line is: o365bypass.$directive $written" "$(cat "$dir/debug.out")" \
        "$what: c-icap quotes the line (-D)"
    message=$(grep -m1 -F "o365bypass.$directive: " "$dir/debug.out" || true)
    check_contains "'$quoted'" "$message" "$what: the module's message names the value (-D)"
    if (( RUN_STATUS == 0 )); then
        check_contains "Error opening/parsing config file" "$(cat "$dir/debug.out")" \
            "$what: exit status 0 only on c-icap's own parse-error path"
        ZERO_EXITS=$(( ZERO_EXITS + 1 ))
    fi
    printf '  %-60s stopped after %4s s, exit status %s, output: %s\n' "$what" "$RUN_SECONDS" \
        "$RUN_STATUS" "$(grep -m1 -F "o365bypass.$directive: " "$dir/plain.out" || echo '(nothing)')" \
        >> "$E2E_DIR/summary.txt"
}

# ---- bad values -----------------------------------------------------------------

: > "$E2E_DIR/summary.txt"
ZERO_EXITS=0
for row in "${BAD_VALUES[@]}"; do
    IFS='|' read -r directive written quoted <<< "$row"
    check_bad_value "$directive" "$written" "$quoted"
done
e2e_log "bad values:"
cat "$E2E_DIR/summary.txt" >&2
(( ZERO_EXITS == 0 )) || e2e_log "NOTE: c-icap 0.5.10 exits with status 0 on a refused configuration" \
    "($ZERO_EXITS of ${#BAD_VALUES[@]}): its config() calls exit(0) after 'Error opening/parsing config file'"

# ---- a missing SeedFile and no cache: an EMPTY table, an error at level 1 ----------

e2e_log "missing SeedFile, empty CacheDir"
mkdir -p "$E2E_DIR/empty-cache"
start_cicap \
    "DebugLevel 1" \
    "Service o365bypass $O3B_MODULE" \
    "o365bypass.SeedFile $E2E_DIR/no-such-dir/endpoints.json" \
    "o365bypass.CacheDir $E2E_DIR/empty-cache" \
    "o365bypass.RefreshInterval 0" \
    "o365bypass.AlsoBypass dlp-exempt.example.net"
cicap_service_ok o365bypass || fail "c-icap without a SeedFile does not serve o365bypass"
options=$(timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass 2>&1 || true)
check_contains "sets=0; entries=0;" "$options" "OPTIONS X-O365bypass-Table of the empty table"
for url in http://outlook.office365.com/ http://contoso.sharepoint.com/ http://login.microsoftonline.com/; do
    answer=$(timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass -req "$url" -v 2>&1 || true)
    check_contains "X-O365bypass-Decision: inspect; reason=not-listed" "$answer" "$url with the empty table"
    if [[ "$answer" == *X-Next-Services* ]]; then
        check_eq absent present "$url: X-Next-Services"
    fi
done
answer=$(timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass \
    -req http://dlp-exempt.example.net/ -v 2>&1 || true)
check_contains "X-O365bypass-Decision: bypass; reason=also-bypass" "$answer" \
    "AlsoBypass still applies with the empty table"
logs_settle "$CICAP_SERVER_LOG"
log=$(grep -F 'o365bypass: ' "$CICAP_SERVER_LOG" || true)
check_contains "SeedFile skipped: $E2E_DIR/no-such-dir/endpoints.json: No such file or directory" "$log" \
    "the error at DebugLevel 1 names the SeedFile"
check_contains "EMPTY table: nothing is bypassed" "$log" "the error at DebugLevel 1 says the table is empty"
check_eq 1 "$(grep -c 'start-up table from (empty), version (empty): 0 sets, 0 entries (empty)' <<< "$log" || true)" \
    "the start-up table (source, version, counts) at DebugLevel 1"
check_eq 1 "$(grep -cE 'version [0-9]+\.[0-9]+\.[0-9]+ loaded' <<< "$log" || true)" \
    "the module version at DebugLevel 1"
check_contains "; module=" "$options" "OPTIONS X-O365bypass-Table names the module version"
cicap_stop

# ---- a plain http:// ServiceURL: the service is refused, c-icap says why ------------

HTTP_URL=http://endpoints.example.com
# http_url_cicap LINE...: c-icap with ServiceURL $HTTP_URL and the lines after it
http_url_cicap() {
    start_cicap \
        "DebugLevel 1" \
        "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.CacheDir $E2E_DIR/http-cache" \
        "o365bypass.RefreshInterval 0" \
        "o365bypass.ServiceURL $HTTP_URL" \
        "$@"
}
e2e_log "ServiceURL $HTTP_URL"
mkdir -p "$E2E_DIR/http-cache"
http_url_cicap "# no AllowHttpServiceURL"
options=$(timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass 2>&1 || true)
check_contains "ICAP/1.0 500" "$options" "ServiceURL $HTTP_URL: OPTIONS o365bypass"
for target in outlook.office365.com:443 http://outlook.office365.com/; do
    check_eq "500 -" "$(icap_once "$target")" "ServiceURL $HTTP_URL: REQMOD $target"
done
cicap_service_ok echo && check_eq yes yes "echo" || check_eq yes no "ServiceURL $HTTP_URL: echo still serves"
logs_settle "$CICAP_SERVER_LOG"
for out in "$CICAP_DIR/stdout.log" "$CICAP_SERVER_LOG"; do
    message=$(grep -m1 -F "o365bypass.ServiceURL: " "$out" || true)
    check_contains "o365bypass.ServiceURL: '$HTTP_URL' is plain http" "$message" \
        "ServiceURL $HTTP_URL: ${out#"$E2E_DIR"/} names the directive and the value"
    check_contains "o365bypass.AllowHttpServiceURL on" "$message" \
        "ServiceURL $HTTP_URL: ${out#"$E2E_DIR"/} names the opt-in"
done
cicap_stop
http_url_cicap "o365bypass.AllowHttpServiceURL on"
cicap_service_ok o365bypass && check_eq serves serves "AllowHttpServiceURL on" \
    || check_eq serves refused "ServiceURL $HTTP_URL with AllowHttpServiceURL on after it"
cicap_stop

check_done
