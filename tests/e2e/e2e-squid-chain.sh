#!/bin/bash
# e2e-squid-chain.sh - curl -> real Squid -> [o365bypass, DLP] chain -> origin.
#
# One c-icap runs the built module and srv_echo (the stand-in "DLP"); a
# loopback origin answers on ports 80 and 443; Squid is started three times
# with the same c-icap:
#   chain         the product: Microsoft 365 destinations the module bypasses
#                 never reach the DLP (REQMOD and RESPMOD), everything else
#                 does, and every request still gets the origin's 200.
#   chain-broken  the o365 service names a service c-icap does not have (404)
#   chain-dead    the o365 service points at a closed port
#                 in both, bypass=on lets Squid skip the failed service: every
#                 request, Microsoft ones included, reaches the DLP and gets 200.
# Each destination is requested four ways: GET, a 200 KiB POST with
# Content-Length, a 200 KiB chunked POST, and HTTPS-style CONNECT to :443
# (curl -p, plain HTTP inside the tunnel).  What each service saw is read
# from c-icap's access log (lines since the phase started, after the logs
# settled); the module's decision header from c-icap's and Squid's logs.
#
# Knobs for debugging the harness itself (not for make check):
#   E2E_MODES="chain chain-broken chain-dead"  phases to run
#   E2E_O365_STANDIN=echo  serve "o365bypass" with srv_echo instead of the
#       module (ServiceAlias): the chain then never ends early, so the
#       `chain` phase must fail its bypass checks while the others pass.
#   E2E_KEEP=1  keep the temp dir.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

# host -> endpoint set id the module must name (Worldwide table, ports 80+443)
declare -A BYPASS_SET=(
    [outlook.office.com]=1 [outlook.office365.com]=1
    [contoso.sharepoint.com]=31 [contoso-my.sharepoint.com]=31
    [fabrikam.sharepoint.com]=31
    [teams.microsoft.com]=12 [login.microsoftonline.com]=56
)
BYPASS_HOSTS=(outlook.office.com outlook.office365.com contoso.sharepoint.com
    contoso-my.sharepoint.com fabrikam.sharepoint.com teams.microsoft.com
    login.microsoftonline.com)
# Default-category sets, a port a set does not list, and look-alikes.
INSPECT_HOSTS=(www.office.com appcdn.onenote.net autodiscover.contoso.onmicrosoft.com
    www.example.org sharepoint.com.example.org evilsharepoint.com
    outlook.office.com.evil.example)
KINDS=(get post chunked connect)
UPLOAD_BYTES=204800

e2e_init squid-chain

module_config() {
    if [[ -n "${E2E_O365_STANDIN:-}" ]]; then
        e2e_log "STAND-IN: o365bypass is served by $E2E_O365_STANDIN, not the module"
        CICAP_EXTRA=("ServiceAlias o365bypass $E2E_O365_STANDIN")
        return 0
    fi
    [[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
    mkdir -p "$E2E_DIR/cache"
    CICAP_EXTRA=(
        "Service o365bypass $O3B_MODULE"
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json"
        "o365bypass.CacheDir $E2E_DIR/cache"
        "o365bypass.RefreshInterval 0"
    )
}

# The URL Squid and c-icap log for a request (CONNECT: host:port).
icap_url() {
    local mode=$1 host=$2 kind=$3
    if [[ "$kind" == connect ]]; then echo "$host:443"; else echo "http://$host/e2e/$mode/$kind"; fi
}

# send MODE HOST KIND: one request through Squid; records status and body.
send() {
    local mode=$1 host=$2 kind=$3 out="$E2E_DIR/bodies/$1.$2.$3"
    local url="http://$host/e2e/$mode/$kind" code
    case $kind in
        get) code=$(via_squid "$out" "$url") ;;
        post) code=$(via_squid "$out" --data-binary "@$E2E_DIR/upload.bin" "$url") ;;
        chunked) code=$(via_squid "$out" -H 'Transfer-Encoding: chunked' \
            --data-binary "@$E2E_DIR/upload.bin" "$url") ;;
        connect) code=$(via_squid "$out" -p "http://$host:443/e2e/$mode/$kind") ;;
    esac
    STATUS["$mode $host $kind"]=$code
}

# The origin's answer proves the request arrived whole at the right place.
expected_body() {
    local mode=$1 host=$2 kind=$3
    case $kind in
        get) echo "host=$host method=GET path=/e2e/$mode/get port=80 bytes=0" ;;
        post|chunked) echo "host=$host method=POST path=/e2e/$mode/$kind port=80 bytes=$UPLOAD_BYTES" ;;
        connect) echo "host=$host:443 method=GET path=/e2e/$mode/connect port=443 bytes=0" ;;
    esac
}

# check_proxy_works MODE HOST KIND: part (c), the origin's 200 through Squid.
check_proxy_works() {
    local what="$1 $2 $3" body
    check_eq 200 "${STATUS[$what]}" "$what: HTTP status"
    body=$(cat "$E2E_DIR/bodies/$1.$2.$3" 2>/dev/null || true)
    check_contains "$(expected_body "$@")" "$body" "$what: origin answer"
}

# count_seen MODE HOST KIND: "DLP MODULE" transaction counts (REQMOD+RESPMOD).
count_seen() {
    local url
    url=$(icap_url "$@")
    echo "$(( $(dlp_count REQMOD "$url") + $(dlp_count RESPMOD "$url") ))" \
         "$(( $(module_count REQMOD "$url") + $(module_count RESPMOD "$url") ))"
}

# Part (a): the module saw it, said bypass, and the DLP never saw it.
check_bypassed() {
    local mode=$1 host=$2 kind=$3 what="$1 $2 $3" url set
    url=$(icap_url "$@")
    set=${BYPASS_SET[$host]}
    check_eq 0 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD count"
    check_eq 0 "$(dlp_count RESPMOD "$url")" "$what: DLP RESPMOD count"
    check_ge 1 "$(module_count REQMOD "$url")" "$what: module REQMOD count"
    check_prefix "bypass; set=$set;" "$(module_decision REQMOD "$url")" "$what: REQMOD decision"
    if [[ "$kind" != connect ]]; then
        check_ge 1 "$(module_count RESPMOD "$url")" "$what: module RESPMOD count"
        check_prefix "bypass; set=$set;" "$(module_decision RESPMOD "$url")" "$what: RESPMOD decision"
    fi
    check_prefix "bypass; set=$set;" "$(squid_field "$url" 5)" "$what: Squid-logged decision"
}

# Part (b): the module saw it, said inspect, and the DLP saw it.
check_inspected() {
    local mode=$1 host=$2 kind=$3 what="$1 $2 $3" url
    url=$(icap_url "$@")
    check_ge 1 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD count"
    check_ge 1 "$(module_count REQMOD "$url")" "$what: module REQMOD count"
    check_prefix "inspect; reason=" "$(module_decision REQMOD "$url")" "$what: REQMOD decision"
    if [[ "$kind" != connect ]]; then
        check_ge 1 "$(dlp_count RESPMOD "$url")" "$what: DLP RESPMOD count"
        check_prefix "inspect; reason=" "$(module_decision RESPMOD "$url")" "$what: RESPMOD decision"
    fi
}

# Broken/dead module: Squid skipped it, the DLP saw everything.
check_fell_back() {
    local mode=$1 host=$2 kind=$3 what="$1 $2 $3" url
    url=$(icap_url "$@")
    check_ge 1 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD count"
    [[ "$kind" == connect ]] ||
        check_ge 1 "$(dlp_count RESPMOD "$url")" "$what: DLP RESPMOD count"
    check_eq 0 "$(module_count REQMOD "$url")" "$what: module REQMOD count"
    check_eq - "$(squid_field "$url" 5)" "$what: Squid-logged decision"
}

# Squid's own view of the o365 service: healthy in `chain`, marked down
# (and so skipped, bypass=on) in the failure modes.
check_o365_service_state() {
    local mode=$1 log="$SQUID_DIR/cache.log" down
    down=$(grep -c 'ICAP service is down' "$log" || true)
    case $mode in
        chain) check_eq 0 "$down" "$mode: ICAP services Squid marked down" ;;
        chain-broken) check_ge 1 "$(grep -c 'service is down.*/o365bypass_missing' "$log" || true)" \
            "$mode: Squid marked the missing o365 service down" ;;
        chain-dead) check_ge 1 "$(grep -c 'service is down.*127\.0\.0\.1:1/o365bypass' "$log" || true)" \
            "$mode: Squid marked the dead o365 service down" ;;
    esac
}

# One summary row per (mode, class, kind): requests, 200s, seen by DLP/module.
summarize() {
    local mode=$1 class=$2 kind=$3 host n=0 ok=0 dlp=0 mod=0 seen
    shift 3
    for host in "$@"; do
        n=$(( n + 1 ))
        [[ "${STATUS["$mode $host $kind"]}" == 200 ]] && ok=$(( ok + 1 ))
        read -r -a seen <<< "$(count_seen "$mode" "$host" "$kind")"
        (( seen[0] > 0 )) && dlp=$(( dlp + 1 ))
        (( seen[1] > 0 )) && mod=$(( mod + 1 ))
    done
    printf '%-13s %-8s %-8s %5d %8d %9d %12d\n' "$mode" "$class" "$kind" "$n" "$ok" "$dlp" "$mod" \
        >> "$E2E_DIR/summary.txt"
}

run_phase() {
    local mode=$1 host kind
    e2e_log "phase $mode"
    start_squid "$mode"
    log_mark
    for host in "${BYPASS_HOSTS[@]}" "${INSPECT_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do send "$mode" "$host" "$kind"; done
    done
    log_freeze
    check_o365_service_state "$mode"
    for host in "${BYPASS_HOSTS[@]}" "${INSPECT_HOSTS[@]}"; do
        for kind in "${KINDS[@]}"; do check_proxy_works "$mode" "$host" "$kind"; done
    done
    for kind in "${KINDS[@]}"; do
        for host in "${BYPASS_HOSTS[@]}"; do
            if [[ "$mode" == chain ]]; then check_bypassed "$mode" "$host" "$kind"
            else check_fell_back "$mode" "$host" "$kind"; fi
        done
        for host in "${INSPECT_HOSTS[@]}"; do
            if [[ "$mode" == chain ]]; then check_inspected "$mode" "$host" "$kind"
            else check_fell_back "$mode" "$host" "$kind"; fi
        done
        summarize "$mode" bypass "$kind" "${BYPASS_HOSTS[@]}"
        summarize "$mode" inspect "$kind" "${INSPECT_HOSTS[@]}"
    done
    [[ "$mode" == chain ]] && record_decisions
    [[ "$mode" == chain ]] && check_loopback_guard
    squid_stop
}

# The harness's own safety net: Squid refuses every destination outside
# loopback (lib.sh's lo_dst rule), so an IP literal can never open a
# connection to a public Microsoft address (names resolve only through
# hosts_file: dns_nameservers is 127.0.0.1, where nothing answers).  The 403
# comes from Squid itself, before any connect.
check_loopback_guard() {
    local code url
    for url in "52.96.1.1:443" "[2603:1006::1]:443"; do
        code=$(curl -sS --max-time 10 --noproxy '' -x "http://127.0.0.1:$SQUID_PORT" -p \
            -o /dev/null -w '%{http_connect}' "http://$url/e2e/guard" 2>>"$E2E_DIR/curl.log") || true
        check_eq 403 "$code" "loopback guard: CONNECT $url refused by Squid"
    done
    code=$(via_squid "$E2E_DIR/bodies/guard.v4" "http://52.96.1.1/e2e/guard")
    check_eq 403 "$code" "loopback guard: GET http://52.96.1.1/ refused by Squid"
}

# The module's REQMOD decision per host (GET), for the summary.
record_decisions() {
    local host
    for host in "${BYPASS_HOSTS[@]}" "${INSPECT_HOSTS[@]}"; do
        printf '  %-38s %s\n' "$host" "$(module_decision REQMOD "$(icap_url chain "$host" get)")"
    done > "$E2E_DIR/decisions.txt"
}

print_summary() {
    echo
    echo "o365bypass end-to-end: Squid chain [o365bypass -> DLP(echo)], ${#BYPASS_HOSTS[@]} bypass + ${#INSPECT_HOSTS[@]} inspect hosts"
    printf '%-13s %-8s %-8s %5s %8s %9s %12s\n' mode class kind reqs http200 dlp_saw module_saw
    cat "$E2E_DIR/summary.txt"
    if [[ -s "$E2E_DIR/decisions.txt" ]]; then
        echo "module decisions (chain, GET):"
        cat "$E2E_DIR/decisions.txt"
    fi
    echo "checks: $E2E_CHECKS, failed: $E2E_FAILED_CHECKS"
}

main() {
    local mode
    declare -gA STATUS=()
    mkdir -p "$E2E_DIR/bodies"
    head -c "$UPLOAD_BYTES" /dev/urandom > "$E2E_DIR/upload.bin"
    module_config
    start_origin "${E2E_ORIGIN_ADDR:-auto}" 80 443
    start_cicap "${CICAP_EXTRA[@]}"
    cicap_service_ok o365bypass \
        || fail "c-icap does not serve o365bypass (module $O3B_MODULE did not load?)"
    for mode in ${E2E_MODES:-chain chain-broken chain-dead}; do
        run_phase "$mode"
    done
    print_summary
    check_done
}

main "$@"
