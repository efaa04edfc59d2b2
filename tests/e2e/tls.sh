# tls.sh - TLS pieces for the o365bypass end-to-end tests (source after lib.sh).
#
#     . "$(dirname "$0")/lib.sh"
#     . "$(dirname "$0")/tls.sh"
#     e2e_init my-tls-test
#     tls_require                 # skips unless Squid can ssl-bump
#     tls_make_pki                # CAs and certificates in E2E_DIR/pki
#     tls_certgen_db              # security_file_certgen's database
#     start_origin_in origin auto --port 80 --tls-port 443 "${TLS_ORIGIN_CERT_ARGS[@]}"
#     shipped_squid_conf conf/squid-o365bypass-tls.conf PORT MODULE_URL > squid.conf
#     tls_get URL ...             # sets TLS_CODE, TLS_ISSUER, TLS_PATH
#
# Design:
# - The PKI is made at test time with openssl in the test's own dir, EC keys
#   (fast), valid two days: an "origin CA" signing the origin certificates
#   (one whose SANs are all the test names, others made with tls_issue), and
#   a "bump CA" (CA:TRUE) for Squid's tls-cert=.  The client trusts both
#   (TLS_TRUST), so every handshake verifies and the issuer it saw tells
#   the path: the origin CA = spliced (Microsoft's own certificate, end to
#   end), the bump CA = bumped (Squid decrypted it).
# - Squid validates origin certificates against the origin CA only
#   (tls_outgoing_options cafile=): its default checks stay on unless a
#   test relaxes them on purpose.
# - The Squid configs are derived from the shipped files in conf/ by
#   shipped_squid_conf: ports, ICAP URLs, paths and log destinations are
#   substituted and every substitution must apply (a shipped file that
#   changed shape fails loudly instead of testing something else); the
#   test-only lines (squid_base_conf: hosts_file, dns_nameservers 127.0.0.1,
#   the lo_dst guard before any allow) come first.

: "${TLS_CERTGEN:=/usr/lib/squid/security_file_certgen}"
: "${OPENSSL:=openssl}"

# Names the origin certificate covers beyond lib.sh's E2E_TEST_HOSTS.
TLS_EXTRA_HOSTS=(outlook.office365.com)

# The Squid access log of the TLS tests: lib.sh's fields (squid_field 2-7)
# plus 8 = %ssl::bump_mode and 9 = %ssl::>sni.
E2E_SQUID_LOGFORMAT="$E2E_SQUID_LOGFORMAT|%ssl::bump_mode|%ssl::>sni"

# tls_require: skip unless this Squid can ssl-bump (Debian's squid-openssl;
# the GnuTLS `squid` package cannot) and the TLS tools are there.
tls_require() {
    command -v "$OPENSSL" >/dev/null 2>&1 || skip "openssl not found"
    [[ -x "$TLS_CERTGEN" ]] || skip "$TLS_CERTGEN not found (install squid-openssl)"
    local version
    version=$("$SQUID" -v 2>/dev/null) || true
    [[ "$version" == *--with-openssl* ]] \
        || skip "$SQUID cannot ssl-bump (built without OpenSSL): install squid-openssl"
}

# ---- PKI --------------------------------------------------------------------

_tls_key() { "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# _tls_ca NAME CN: a self-signed CA (CA:TRUE) NAME.pem / NAME.key in TLS_PKI.
_tls_ca() {
    _tls_key "$TLS_PKI/$1.key" || hard_error "openssl: CA key $1"
    "$OPENSSL" req -x509 -new -key "$TLS_PKI/$1.key" -out "$TLS_PKI/$1.pem" -days 2 \
        -subj "/CN=$2" -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null \
        || hard_error "openssl: CA $1"
}

# tls_issue NAME HOST...: an origin certificate NAME.pem / NAME.key signed by
# the origin CA, valid for exactly the HOSTs (SANs; CN = the first one).
tls_issue() {
    local name=${1:?tls_issue NAME HOST...} host san=""
    shift
    for host in "$@"; do san+="${san:+,}DNS:$host"; done
    _tls_key "$TLS_PKI/$name.key" || hard_error "openssl: key $name"
    "$OPENSSL" req -new -key "$TLS_PKI/$name.key" -subj "/CN=$1" -out "$TLS_PKI/$name.csr" \
        2>/dev/null || hard_error "openssl: request $name"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$san" > "$TLS_PKI/$name.ext"
    "$OPENSSL" x509 -req -in "$TLS_PKI/$name.csr" -CA "$TLS_PKI/origin-ca.pem" \
        -CAkey "$TLS_PKI/origin-ca.key" -CAcreateserial -days 2 \
        -extfile "$TLS_PKI/$name.ext" -out "$TLS_PKI/$name.pem" 2>/dev/null \
        || hard_error "openssl: sign $name"
    chgrp proxy "$TLS_PKI/$name.key"
    chmod 0640 "$TLS_PKI/$name.key"
}

# tls_make_pki: E2E_DIR/pki with the origin CA, the bump CA, `origin` (every
# test name) and the trust bundle.  Exports TLS_PKI TLS_TRUST, sets
# TLS_ORIGIN_CERT_ARGS (origin.py's --cert/--key for `origin`).
tls_make_pki() {
    TLS_PKI="$E2E_DIR/pki"
    mkdir -p "$TLS_PKI"
    chmod 0755 "$TLS_PKI"
    _tls_ca origin-ca "o3b e2e origin CA"
    _tls_ca bump-ca "o3b e2e bump CA"
    chgrp proxy "$TLS_PKI/bump-ca.key"
    chmod 0640 "$TLS_PKI/bump-ca.key"
    tls_issue origin "${E2E_TEST_HOSTS[@]}" "${TLS_EXTRA_HOSTS[@]}"
    cat "$TLS_PKI/origin-ca.pem" "$TLS_PKI/bump-ca.pem" > "$TLS_PKI/trust.pem"
    TLS_TRUST="$TLS_PKI/trust.pem"
    # shellcheck disable=SC2034 # for the caller
    TLS_ORIGIN_CERT_ARGS=(--cert "$TLS_PKI/origin.pem" --key "$TLS_PKI/origin.key")
    export TLS_PKI TLS_TRUST
    e2e_log "PKI in $TLS_PKI (origin CA, bump CA, origin certificate for $(( ${#E2E_TEST_HOSTS[@]} + ${#TLS_EXTRA_HOSTS[@]} )) names)"
}

# tls_cert_args NAME: origin.py's --cert/--key for certificate NAME.
tls_cert_args() { echo "--cert $TLS_PKI/$1.pem --key $TLS_PKI/$1.key"; }

# tls_certgen_db: initialise security_file_certgen's database in E2E_DIR
# (owned by proxy, Squid's user).  Exports TLS_CERTGEN_DB.
tls_certgen_db() {
    TLS_CERTGEN_DB="$E2E_DIR/ssl_db"
    "$TLS_CERTGEN" -c -s "$TLS_CERTGEN_DB" -M 4MB > "$E2E_DIR/certgen-init.log" 2>&1 \
        || hard_error "security_file_certgen -c failed: $(cat "$E2E_DIR/certgen-init.log")"
    chown -R proxy:proxy "$TLS_CERTGEN_DB"
    export TLS_CERTGEN_DB
}

# ---- Squid configs from the shipped files ----------------------------------

# _shipped_sub FILE FROM TO: replace every FROM (fixed string) by TO in FILE;
# fatal when FROM does not occur (the shipped file changed shape).
_shipped_sub() {
    grep -qF -- "$2" "$1" || fail "${SHIPPED_NAME:-shipped config}: '$2' not found (the test's substitutions no longer match conf/)"
    FROM=$2 TO=$3 "$PYTHON3" -c '
import os, sys
p = sys.argv[1]
s = open(p).read().replace(os.environ["FROM"], os.environ["TO"])
open(p, "w").write(s)' "$1"
}

# shipped_squid_conf SHIPPED DIR PORT MODULE_URL: print the squid.conf of a
# test Squid made from SHIPPED (a file in conf/): the test-only base lines
# (squid_base_conf DIR: logs in DIR, hosts_file, dns_nameservers 127.0.0.1,
# the lo_dst guard before any allow), then SHIPPED with its example values
# replaced: forward-proxy port 3128 -> 127.0.0.1:PORT, intercept port 3129 ->
# 127.0.0.1:SQUID_INTERCEPT_PORT (when set), the module's ICAP URL ->
# MODULE_URL, the DLP services -> srv_echo on CICAP_PORT, the bump CA and
# certgen database -> the test's (when the file has them), its access log ->
# DIR/access-shipped.log.
shipped_squid_conf() {
    local shipped=${1:?} dir=${2:?} port=${3:?} module_url=${4:?} tmp
    SHIPPED_NAME=${shipped#"$top_srcdir"/}
    tmp="$dir/shipped.conf"
    cp "$shipped" "$tmp"
    _shipped_sub "$tmp" $'\nhttp_port 3128' $'\nhttp_port 127.0.0.1:'"$port"
    if grep -q '^http_port 3129 intercept' "$tmp"; then
        _shipped_sub "$tmp" $'\nhttp_port 3129 intercept' \
            $'\nhttp_port 127.0.0.1:'"${SQUID_INTERCEPT_PORT:?} intercept"
    fi
    _shipped_sub "$tmp" "icap://127.0.0.1:1344/o365bypass" "$module_url"
    _shipped_sub "$tmp" "icap://127.0.0.1:1345/dlp_reqmod" "icap://127.0.0.1:$CICAP_PORT/echo"
    _shipped_sub "$tmp" "icap://127.0.0.1:1345/dlp_respmod" "icap://127.0.0.1:$CICAP_PORT/echo"
    if grep -q '^http_port .* ssl-bump' "$tmp"; then
        _shipped_sub "$tmp" "tls-cert=/etc/squid/bump-ca.pem" "tls-cert=$TLS_PKI/bump-ca.pem"
        _shipped_sub "$tmp" "tls-key=/etc/squid/bump-ca.key" "tls-key=$TLS_PKI/bump-ca.key"
        _shipped_sub "$tmp" "/usr/lib/squid/security_file_certgen -s /var/lib/squid/ssl_db" \
            "$TLS_CERTGEN -s $TLS_CERTGEN_DB"
    fi
    _shipped_sub "$tmp" "daemon:/var/log/squid/access-o365.log" "stdio:$dir/access-shipped.log"
    echo "# written by tests/e2e/tls.sh from $SHIPPED_NAME"
    echo "# ---- test-only lines (loopback, files in $dir)"
    squid_base_conf "$dir"
    [[ -n "${TLS_PKI:-}" ]] && echo "tls_outgoing_options cafile=$TLS_PKI/origin-ca.pem"
    echo "# ---- $SHIPPED_NAME, substituted"
    cat "$tmp"
}

# shipped_icap_lines FILE: the module-and-chain lines of a shipped config
# (icap_*, adaptation_service_chain, adaptation_access), to compare files.
shipped_icap_lines() {
    grep -E '^(icap_|adaptation_service_chain|adaptation_access)' "$1"
}

# ---- clients ----------------------------------------------------------------

# tls_get URL CURL_ARGS...: one HTTPS request through Squid (SQUID_PORT),
# trusting both CAs.  Sets TLS_CODE (HTTP status, 000 when curl failed),
# TLS_ISSUER (the issuer CN of the certificate the client saw, "-" when
# none), TLS_PATH ("spliced" = the origin CA, "bumped" = the bump CA,
# "none"), TLS_BODY (the answer).  Call it in the main shell.
# shellcheck disable=SC2034 # TLS_PATH and TLS_BODY are for the caller
tls_get() {
    local url=${1:?tls_get URL ...} out err
    shift
    out=$(mktemp "$E2E_DIR/tls-body.XXXXXX")
    err=$(mktemp "$E2E_DIR/tls-verbose.XXXXXX")
    TLS_CODE=$(curl -sS -v --max-time 30 --noproxy '' -x "http://127.0.0.1:$SQUID_PORT" \
        --cacert "$TLS_TRUST" -H 'Expect:' -o "$out" -w '%{http_code}' "$@" "$url" 2>"$err") \
        || true
    TLS_CODE=${TLS_CODE:-000}
    TLS_ISSUER=$(sed -n 's/^\*  issuer: .*CN *= *\([^,]*\).*/\1/p' "$err" | head -n 1)
    TLS_ISSUER=${TLS_ISSUER:--}
    case $TLS_ISSUER in
        "o3b e2e origin CA") TLS_PATH=spliced ;;
        "o3b e2e bump CA") TLS_PATH=bumped ;;
        *) TLS_PATH=none ;;
    esac
    TLS_BODY=$(cat "$out")
    { printf '== %s %s -> %s %s\n' "$url" "$*" "$TLS_CODE" "$TLS_ISSUER"; grep -v '^[<>{}] ' "$err"; } \
        >> "$E2E_DIR/curl.log"
    rm -f "$out" "$err"
}
