#!/bin/bash
# e2e-acl-tls.sh - the fast path with ssl_bump: the helper splices Microsoft
# 365 at step 1, everything else is bumped and inspected.
#
# The Squid is made from two shipped files (tls.sh's PKI, origin and client
# pieces; lib.sh's test-only lines first): the ssl-bump port and the
# certificate generator of conf/squid-o365bypass-tls.conf, then
# conf/squid-o365bypass-acl.conf (lib.sh mode fast) with its commented TLS
# block switched on - `ssl_bump splice step1 o365_fast`, peek, bump all -
# as its comment tells TLS deployments to.  The origin serves TLS on 443
# with a certificate for every test name, signed by the "origin CA"; Squid
# bumps with the "bump CA"; the client trusts both, so the issuer it sees
# says spliced (origin CA) or bumped (bump CA).  Checks:
#   splice   outlook.office.com, teams.microsoft.com: spliced, 200 from the
#            origin, and NO ICAP transaction at all - not for the CONNECT
#            (the helper answered it), not from inside the tunnel;
#   bump     www.example.org (not listed), www.office.com (Default): bumped;
#            the CONNECT went through the module, the decrypted GET through
#            the module and the DLP, the helper said inspect for both;
#   forged   CONNECT www.example.org with the SNI outlook.office.com (curl
#            --connect-to): a forged SNI cannot widen a splice - bumped, and
#            the decrypted request (https://outlook.office.com/...) goes to
#            the DLP (reason decrypted, the module's default).
set -euo pipefail
E2E_ACL_TLS_SELF="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/e2e/lib.sh
. "$E2E_ACL_TLS_SELF/lib.sh"
# shellcheck source=tests/e2e/tls.sh
. "$E2E_ACL_TLS_SELF/tls.sh"

# tls.sh's fields (8 bump mode, 9 SNI), then 10 = the helper's verdict note.
E2E_SQUID_LOGFORMAT="$E2E_SQUID_LOGFORMAT|%{o365bypass_verdict}note|%{o365bypass_reason}note"
TLS_CONF="$top_srcdir/conf/squid-o365bypass-tls.conf"
SPLICE_HOSTS=(outlook.office.com teams.microsoft.com)
BUMP_HOSTS=(www.example.org www.office.com)

e2e_init acl-tls
tls_require
[[ -x "$O3B_ACL" ]] || hard_error "helper not built: $O3B_ACL"
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"

# The ssl-bump port and certificate generator lines of the shipped TLS file.
tls_port_lines() {
    local port=$1 lines
    lines=$(grep -E '^(http_port 3128 ssl-bump|sslcrtd_)' "$TLS_CONF") || true
    [[ $(grep -c . <<< "$lines") == 3 ]] || fail "conf/squid-o365bypass-tls.conf: no http_port 3128 ssl-bump / sslcrtd_ lines"
    sed -e "s|^http_port 3128 |http_port 127.0.0.1:$port |" \
        -e "s|tls-cert=/etc/squid/bump-ca.pem|tls-cert=$TLS_PKI/bump-ca.pem|" \
        -e "s|tls-key=/etc/squid/bump-ca.key|tls-key=$TLS_PKI/bump-ca.key|" \
        -e "s|/usr/lib/squid/security_file_certgen -s /var/lib/squid/ssl_db|$TLS_CERTGEN -s $TLS_CERTGEN_DB|" \
        <<< "$lines"
}

# The fast path, its TLS block switched on (every line of it must be there).
fast_tls_lines() {
    local out line
    out=$(_squid_fast_adaptation)
    for line in "acl step1 at_step SslBump1" "ssl_bump splice step1 o365_fast" \
        "ssl_bump peek step1" "ssl_bump bump all"; do
        grep -qxF "#$line" <<< "$out" || fail "conf/squid-o365bypass-acl.conf: '#$line' not found"
        out=$(sed "s|^#$line\$|$line|" <<< "$out")
    done
    echo "$out"
}

acl_tls_writer() {
    local dir=$1 port=$2
    {
        echo "# written by tests/e2e/e2e-acl-tls.sh from conf/squid-o365bypass-tls.conf"
        echo "# (port, certificates) and conf/squid-o365bypass-acl.conf (its TLS block on)"
        tls_port_lines "$port"
        squid_base_conf "$dir"
        echo "tls_outgoing_options cafile=$TLS_PKI/origin-ca.pem"
        fast_tls_lines
    } > "$dir/squid.conf"
    chmod 0644 "$dir/squid.conf"
}

# c-icap access-log lines (any service, any method) whose URL contains it.
icap_lines_with() { cicap_lines | awk -v u="$1" 'index($4, u) { n++ } END { print n + 0 }'; }

check_spliced() {
    local host=$1 what="splice $1"
    tls_get "https://$host/e2e/acltls/get"
    check_eq 200 "$TLS_CODE" "$what: HTTP status"
    check_eq spliced "$TLS_PATH" "$what: certificate the client saw (issuer $TLS_ISSUER)"
    check_contains "host=$host method=GET path=/e2e/acltls/get " "$TLS_BODY" "$what: origin answer"
}

check_bumped() {
    local url=$1 what="$2"
    tls_get "$url" "${@:3}"
    check_eq 200 "$TLS_CODE" "$what: HTTP status"
    check_eq bumped "$TLS_PATH" "$what: certificate the client saw (issuer $TLS_ISSUER)"
}

main() {
    local host url cache="$E2E_DIR/cache"
    tls_make_pki
    tls_certgen_db
    start_origin_in origin auto --port 80 --tls-port 443 "${TLS_ORIGIN_CERT_ARGS[@]}"
    mkdir -p "$cache"
    chgrp proxy "$cache"
    chmod 2750 "$cache"
    start_cicap "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir $cache" "o365bypass.RefreshInterval 0"
    cicap_service_ok o365bypass || fail "c-icap does not serve o365bypass"
    start_squid_with acl_tls_writer fast-tls
    log_mark
    for host in "${SPLICE_HOSTS[@]}"; do check_spliced "$host"; done
    for host in "${BUMP_HOSTS[@]}"; do
        check_bumped "https://$host/e2e/acltls/get" "bump $host"
    done
    check_bumped "https://outlook.office.com/e2e/acltls/forged" "forged SNI" \
        --connect-to outlook.office.com:443:www.example.org:443
    log_freeze
    for host in "${SPLICE_HOSTS[@]}"; do
        check_eq splice "$(squid_field "$host:443" 8)" "splice $host: Squid's %ssl::bump_mode"
        check_eq bypass "$(squid_field "$host:443" 10)" "splice $host: the helper's verdict on the CONNECT"
        check_eq 0 "$(icap_lines_with "$host:443")" "splice $host: c-icap lines for the CONNECT"
        check_eq 0 "$(icap_lines_with "https://$host/e2e/acltls/get")" \
            "splice $host: c-icap lines from inside the tunnel"
    done
    for host in "${BUMP_HOSTS[@]}"; do
        url="https://$host/e2e/acltls/get"
        check_eq bump "$(squid_field "$host:443" 8)" "bump $host: Squid's %ssl::bump_mode"
        check_eq inspect "$(squid_field "$host:443" 10)" "bump $host: the helper's verdict on the CONNECT"
        check_ge 1 "$(module_count REQMOD "$host:443")" "bump $host: the module saw the CONNECT"
        check_ge 1 "$(dlp_count REQMOD "$url")" "bump $host: DLP REQMOD of the decrypted GET"
        check_ge 1 "$(dlp_count RESPMOD "$url")" "bump $host: DLP RESPMOD of the decrypted GET"
        check_eq inspect "$(squid_field "$url" 10)" "bump $host: the helper's verdict inside"
    done
    url="https://outlook.office.com/e2e/acltls/forged"
    check_eq bump "$(squid_field "www.example.org:443" 8)" "forged SNI: the CONNECT bumped"
    check_ge 1 "$(dlp_count REQMOD "$url")" "forged SNI: DLP REQMOD of $url"
    check_eq decrypted "$(squid_field "$url" 11)" "forged SNI: the helper's reason inside"
    check_prefix "inspect; reason=decrypted" "$(module_decision REQMOD "$url")" \
        "forged SNI: the module's decision inside"
    squid_stop
    check_done
}

main "$@"
