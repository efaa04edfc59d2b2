#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-stats.sh - every o365bypass counter, header and log attribute, exact.
#
# c-icap runs the built module with 2 children (StartServers = MaxServers =
# 2, 4 threads each, so c-icap never starts or stops one by itself); the
# info service (`info?view=text`) sums each counter over the children.  A
# raw ICAP client (written below into the temp dir) opens connections one
# after the other and keeps them open until both children answered OPTIONS
# (X-O365bypass-Table says pid=), then sends a fixed list of requests
# round-robin over one connection per child: every answer's status,
# X-Next-Services and X-O365bypass-Decision are checked, and the counters
# must then equal the numbers written in this file, every one of them (a
# counter not named for an instance must be 0).  Instances:
#   A  the repo's seed, default policy + TenantName contoso, NeverBypass,
#      AlsoBypass; bypass per category/area, every inspect reason, malformed
#      and Host-mismatch requests, then a bulk icapload run (get, connect,
#      respmod) and o365bypass_reload; DebugLevel 7: no per-request line;
#      the access log attributes (%{o365bypass_*}Sa) are checked line by line
#   B  the seed plus a MEM set and a set of an unknown area,
#      BypassCategories Optimize Allow Default, RequiredOnly on;
#      DebugLevel 8: one trace line per request
#   C  the seed, ServiceAreas Exchange (Common, the prerequisite, stays bypassed)
#   T1 T2  what an ssl-bump Squid sends: decrypted requests (https URLs, plain
#      http to 443), the client's SNI in X-O365bypass-SNI, the generated
#      CONNECT of peek-and-splice; T1 DecryptedRequests inspect, T2 sni-bound
#   R  a loopback feed (tests/tools/feedserver.py) as ServiceURL,
#      RefreshInterval 3600, DebugLevel 1 (Debian's default: what happened
#      must be logged there); started first, so its automatic
#      first refresh (updated) happens while A-C run; then o365bypass_refresh
#      under faults: not modified, failed (500), invalid (bad JSON), shrink guard,
#      accept, grow guard, throttled (429, twice), and a reload over a corrupt cache
#      file; OPTIONS headers (X-O365bypass-Table, ISTag, X-O365bypass-Refresh)
#      of every child after each step that changes them.
# Finally every label of module/counters.c must have been proven non-zero
# in at least one instance.  E2E_KEEP=1 keeps the temp dir.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

CHILDREN=2
THREADS_PER_CHILD=4
SEED=$top_srcdir/module/data/endpoints-worldwide.json
FEED_FILE=tests/data/worldwide-2025-11-14.json   # the seed's data, byte-exact
ATTRS='%{o365bypass_verdict}Sa %{o365bypass_reason}Sa %{o365bypass_set}Sa'
ATTRS+=' %{o365bypass_category}Sa %{o365bypass_area}Sa %{o365bypass_match}Sa'

e2e_init stats
export O3B_TOOLS="$top_srcdir/tests/tools"
T_START=$SECONDS

# ---- the raw ICAP client -------------------------------------------------------

write_client() {
    cat > "$E2E_DIR/icap.py" <<'EOF'
"""icap.py - raw ICAP client for e2e-stats.sh.
  icap.py options PORT CHILDREN MAXCONN
      OPTIONS over connections held open until CHILDREN children answered:
      each child's response head, heads separated by an empty line
  icap.py run PORT CHILDREN MAXCONN SPEC
      SPEC rows "ICAPMETHOD|REQUEST-LINE|HOST,HOST...|EXPECTED" (HOSTS "-":
      no Host header; ICAPMETHOD "REQMOD;sni=NAME" also sends the ICAP header
      "X-O365bypass-SNI: NAME", as Squid's adaptation_meta does) sent
      round-robin over one connection per child; prints
      "row<TAB>pid<TAB>status<TAB>next-services<TAB>decision" per row
      (next-services: "empty", "absent" or the value)."""
import os
import socket
import sys
import time


# the head reader and header parser of the other e2e tests' probe
sys.path.insert(0, os.environ["O3B_TOOLS"])
from icap_probe import header, read_head  # noqa: E402


def options(sock, port):
    sock.sendall(("OPTIONS icap://127.0.0.1:%d/o365bypass ICAP/1.0\r\n"
                  "Host: 127.0.0.1:%d\r\nEncapsulated: null-body=0\r\n\r\n"
                  % (port, port)).encode())
    return read_head(sock)


def table_pid(head):
    for part in (header(head, "X-O365bypass-Table") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "pid":
            return value
    return "?"


def encapsulate(imethod, line, hosts):
    http = line + "\r\n"
    if hosts != "-":
        http += "".join("Host: %s\r\n" % h for h in hosts.split(","))
    http += "User-Agent: e2e-stats\r\n\r\n"
    if imethod == "RESPMOD":
        res = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
        return "req-hdr=0, res-hdr=%d, null-body=%d" % (len(http), len(http) + len(res)), \
            http + res
    return "req-hdr=0, null-body=%d" % len(http), http


def send(sock, port, imethod, line, hosts):
    imethod, _, meta = imethod.partition(";sni=")
    extra = "X-O365bypass-SNI: %s\r\n" % meta if meta else ""
    encap, body = encapsulate(imethod, line, hosts)
    sock.sendall(("%s icap://127.0.0.1:%d/o365bypass ICAP/1.0\r\n"
                  "Host: 127.0.0.1:%d\r\nAllow: 204\r\nPreview: 0\r\n%s"
                  "Encapsulated: %s\r\n\r\n%s" % (imethod, port, port, extra, encap, body))
                 .encode("latin-1"))
    head = read_head(sock)
    nxt = header(head, "X-Next-Services")
    nxt = "absent" if nxt is None else (nxt or "empty")
    status = (head.split(" ", 2) + ["?"])[1]
    return status, nxt, header(head, "X-O365bypass-Decision") or "-"


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def spread(port, children, max_conns):
    """Open connections until `children` children answered; hold them all."""
    held, by_pid = [], {}
    deadline = time.monotonic() + 10
    while len(held) < max_conns and len(by_pid) < children and time.monotonic() < deadline:
        sock = connect(port)
        held.append(sock)
        try:
            head = options(sock, port)
        except OSError:
            break  # no thread free anywhere
        by_pid.setdefault(table_pid(head), (sock, head))
    return held, by_pid


def main():
    port, children, max_conns = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    held, by_pid = spread(port, children, max_conns)
    try:
        if sys.argv[1] == "options":
            print("\n\n".join(head for _, head in by_pid.values()))
            return
        rows = [ln.rstrip("\n").split("|") for ln in open(sys.argv[5], encoding="latin-1")
                if ln.strip() and not ln.startswith("#")]
        pids = sorted(by_pid)
        for i, row in enumerate(rows):
            pid = pids[i % len(pids)]
            try:
                status, nxt, decision = send(by_pid[pid][0], port, row[0], row[1], row[2])
            except OSError as err:
                status, nxt, decision = "error", "-", str(err)
            print("%d\t%s\t%s\t%s\t%s" % (i + 1, pid, status, nxt, decision))
    finally:
        for sock in held:
            sock.close()


main()
EOF
}

# ---- counters --------------------------------------------------------------------

# Every label the counter rows of module/counters.c register, in their order.
read_labels() {
    mapfile -t LABELS < <(grep -oE '\{"[^"]+", O3B_FAMILY_' "$top_srcdir/module/counters.c" \
        | sed -E 's/^\{"([^"]+)".*/\1/')
    (( ${#LABELS[@]} >= 30 )) || hard_error "cannot read the counter labels of counters.c"
    declare -gA PROVEN=()
}

info_page() {
    timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s "info?view=text" \
        -req http://x/ 2>/dev/null || true
}

# Read the "o365bypass Statistics" block into COUNTERS[label]; also c-icap's
# own per-service block into CICAP_STATS[label].
read_counters() {
    local page label value
    declare -gA COUNTERS=() CICAP_STATS=()
    page=$(info_page)
    while IFS=$'\t' read -r label value; do
        COUNTERS[$label]=$value
    done < <(awk '/^o365bypass Statistics$/ { on = 1; next }
                  on && /^$/ { on = 0 }
                  on && / : / { i = index($0, " : ");
                                printf "%s\t%s\n", substr($0, 1, i - 1), substr($0, i + 3) }' <<< "$page")
    while IFS=$'\t' read -r label value; do
        CICAP_STATS[$label]=$value
    done < <(awk '/^Service o365bypass Statistics$/ { on = 1; next }
                  on && /^$/ { on = 0 }
                  on && / : / { i = index($0, " : ");
                                printf "%s\t%s\n", substr($0, 1, i - 1), substr($0, i + 3) }' <<< "$page")
}

counter() { read_counters; echo "${COUNTERS[$1]:-absent}"; }
_counter_is() { [[ "$(counter "$1")" == "$2" ]]; }

# check_counters WHAT EXPECTED_ARRAY_NAME: every label exactly (unnamed: 0),
# and the page lists exactly the labels of counters.c.
# Do the counters on the info page equal the wanted values (absent = 0)?
_counters_match() {
    local label
    local -n wanted=$1
    read_counters
    for label in "${LABELS[@]}"; do
        [[ "${COUNTERS[$label]:-absent}" == "${wanted[$label]:-0}" ]] || return 1
    done
    return 0
}

check_counters() {
    local what=$1 label want got i
    local -n want_of=$2
    # children hand their counts to c-icap once a second (their tick): wait
    # up to 5 s for the page to settle on the wanted values, then check
    for (( i = 0; i < 50; i++ )); do
        _counters_match "$2" && break
        sleep 0.1
    done
    read_counters
    check_eq "${#LABELS[@]}" "${#COUNTERS[@]}" "$what: number of o365bypass counters on the info page"
    for label in "${!want_of[@]}"; do
        [[ " ${LABELS[*]} " == *" $label "* ]] || hard_error "$what: '$label' is not a label"
    done
    for label in "${LABELS[@]}"; do
        want=${want_of[$label]:-0}
        got=${COUNTERS[$label]:-absent}
        check_eq "$want" "$got" "$what: counter '$label'"
        if [[ "$got" == "$want" && "$want" != 0 ]]; then PROVEN[$label]=$what; fi
    done
    {
        printf '%s counters:' "$what"
        for label in "${LABELS[@]}"; do
            if [[ "${COUNTERS[$label]:-0}" != 0 ]]; then
                printf ' %s=%s;' "$label" "${COUNTERS[$label]}"
            fi
        done
        echo
    } >> "$E2E_DIR/summary.txt"
}

# ---- requests ------------------------------------------------------------------------

# run_rows WHAT SPECFILE: send the rows, check every answer (204; bypass
# with an empty X-Next-Services, inspect without it; the decision starts
# with the row's EXPECTED), and that every child served some of them.
run_rows() {
    local what=$1 spec=$2 out row pid status next decision expect n=0 line
    local -a rows=()
    mapfile -t rows < <(grep -v '^#' "$spec" | grep .)
    out="$E2E_DIR/$what.answers"
    timeout 30 "$PYTHON3" "$E2E_DIR/icap.py" run "$CICAP_PORT" "$CHILDREN" \
        $(( CHILDREN * THREADS_PER_CHILD )) "$spec" > "$out" 2> "$E2E_DIR/$what.client.log" \
        || fail "$what: the ICAP client failed (see ${out#"$E2E_DIR"/})"
    check_eq "${#rows[@]}" "$(grep -c . "$out")" "$what: answers"
    while IFS=$'\t' read -r row pid status next decision; do
        line=${rows[$(( row - 1 ))]}
        expect=${line##*|}
        check_eq 204 "$status" "$what row $row ($line): ICAP status"
        check_prefix "$expect" "$decision" "$what row $row: decision"
        case $decision in
            bypass*) check_eq empty "$next" "$what row $row: X-Next-Services" ;;
            *) check_eq absent "$next" "$what row $row: X-Next-Services" ;;
        esac
        n=$(( n + 1 ))
    done < "$out"
    check_eq "$CHILDREN" "$(cut -f2 "$out" | sort -u | grep -c '^[0-9]')" \
        "$what: children that served rows (the counters are summed over them)"
    e2e_log "$what: $n requests, per child: $(cut -f2 "$out" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')"
}

# options_heads: OPTIONS response heads of every child into OPT_HEADS (one
# per child, heads separated by an empty line).
options_heads() {
    OPT_HEADS=$(timeout 15 "$PYTHON3" "$E2E_DIR/icap.py" options "$CICAP_PORT" "$CHILDREN" \
        $(( CHILDREN * THREADS_PER_CHILD ))) || OPT_HEADS=""
}

# head_field NAME HEAD: a header's value.
head_field() {
    awk -v n="$1" '{ sub(/\r$/, "") } index(tolower($0), tolower(n) ":") == 1 {
            v = substr($0, length(n) + 2); sub(/^[ \t]+/, "", v); print v; exit }' <<< "$2"
}

# sub_field KEY VALUE: "k=v" from "a=b; k=v; ...".
sub_field() {
    tr ';' '\n' <<< "$2" | sed -n "s/^ *$1=//p" | head -n 1
}

# check_options WHAT VERSION SETS ENTRIES: every child's X-O365bypass-Table
# (version, sets, entries, a tag, its own pid) and ISTag = "CI0001" + tag.
# Sets TAG (the tag, the same in every child) and REFRESH_HDR.
check_options() {
    local what=$1 version=$2 sets=$3 entries=$4 head table tag pids=""
    local -a heads=()
    options_heads
    mapfile -t heads < <(awk -v RS= '{ gsub(/\n/, "\034"); print }' <<< "$OPT_HEADS")
    check_eq "$CHILDREN" "${#heads[@]}" "$what: OPTIONS reached every child"
    TAG=""
    for head in "${heads[@]}"; do
        head=${head//$'\034'/$'\n'}
        table=$(head_field X-O365bypass-Table "$head")
        tag=$(sub_field tag "$table")
        check_eq "$version" "$(sub_field version "$table")" "$what: table version"
        check_eq "$sets" "$(sub_field sets "$table")" "$what: table sets"
        check_eq "$entries" "$(sub_field entries "$table")" "$what: table entries"
        check_eq Worldwide "$(sub_field instance "$table")" "$what: table instance"
        check_prefix "$version-" "$tag" "$what: tag"
        check_eq "\"CI0001$tag\"" "$(head_field ISTag "$head")" "$what: ISTag is CI0001 + the tag"
        if [[ -z "$TAG" ]]; then TAG=$tag; fi
        check_eq "$TAG" "$tag" "$what: the same tag in every child"
        pids+="$(sub_field pid "$table") "
        REFRESH_HDR=$(head_field X-O365bypass-Refresh "$head")
    done
    check_eq "$CHILDREN" "$(tr ' ' '\n' <<< "$pids" | grep '^[0-9]' | sort -u | grep -c .)" \
        "$what: distinct child pids"
}

# remember_instance NAME / use_instance NAME: save and restore what
# start_cicap exported, to go back to an instance started earlier.
remember_instance() {
    declare -gA "INSTANCE_$1=([port]=$CICAP_PORT [pid]=$CICAP_PID [dir]=$CICAP_DIR \
        [server_log]=$CICAP_SERVER_LOG [access_log]=$CICAP_ACCESS_LOG [ctl]=$CICAP_CTL \
        [o365_log]=$O365_LOG)"
}

use_instance() {
    local -n saved="INSTANCE_$1"
    CICAP_PORT=${saved[port]} CICAP_PID=${saved[pid]} CICAP_DIR=${saved[dir]}
    CICAP_SERVER_LOG=${saved[server_log]} CICAP_ACCESS_LOG=${saved[access_log]}
    CICAP_CTL=${saved[ctl]} O365_LOG=${saved[o365_log]}
}

# ---- c-icap instances ------------------------------------------------------------------

_children_are() {
    [[ "$(info_page | awk -F': *' '$1 == "Children number" { print $2; exit }')" == "$1" ]]
}

# start_instance NAME DEBUGLEVEL MODULE_LINE...: c-icap with the module, 2
# fixed children, the o365 access log in $E2E_DIR/NAME.o365.log.
start_instance() {
    local name=$1 level=$2
    shift 2
    mkdir -p "$E2E_DIR/$name-cache"
    O365_LOG="$E2E_DIR/$name.o365.log"
    fixed_children "$CHILDREN" "$THREADS_PER_CHILD"
    start_cicap "${FIXED_CHILDREN[@]}" \
        "DebugLevel $level" \
        "LogFormat o365 \"%im %iu $ATTRS\"" \
        "AccessLog $O365_LOG o365" \
        "Service o365bypass $O3B_MODULE" \
        "o365bypass.CacheDir $E2E_DIR/$name-cache" \
        "$@"
    cicap_service_ok o365bypass || fail "$name: c-icap does not serve o365bypass"
    wait_until 10 _children_are "$CHILDREN" || fail "$name: c-icap did not start $CHILDREN children"
    e2e_log "instance $name up ($(( SECONDS - T_START )) s)"
}

# module_log_lines PATTERN: the module's server-log lines matching PATTERN.
module_log_lines() { grep -F 'o365bypass: ' "$CICAP_SERVER_LOG" | grep -E -- "$1" || true; }

# o365_log_count LINE: exact lines of the o365 access log.
o365_log_count() { grep -cxF -- "$1" "$O365_LOG" || true; }

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

# ---- A: default policy, every inspect reason, the access log ------------------------------

phase_a() {
    local load_line
    e2e_log "---- A: default policy + TenantName contoso, NeverBypass, AlsoBypass"
    start_instance A 7 \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.RefreshInterval 0" \
        "o365bypass.TenantName contoso" \
        "o365bypass.NeverBypass outlook.cloud.microsoft 203.0.113.0/24" \
        "o365bypass.AlsoBypass dlp-exempt.example.net 198.51.100.7"
    check_options "A at start" seed 64 333
    check_eq "interval=0; last-attempt=0; last-success=0; next=0; result=-" "$REFRESH_HDR" \
        "A: X-O365bypass-Refresh without refresh"
    cat > "$E2E_DIR/A.spec" <<'EOF'
# bypassed by the table: Optimize x Exchange/SharePoint, Allow x Skype/Common/Exchange
REQMOD|GET http://outlook.office365.com/a HTTP/1.1|outlook.office365.com|bypass; set=1; category=Optimize; area=Exchange; match=outlook.office365.com
REQMOD|GET http://contoso.sharepoint.com/a HTTP/1.1|contoso.sharepoint.com|bypass; set=31; category=Optimize; area=SharePoint; match=*.sharepoint.com
REQMOD|GET http://contoso-my.sharepoint.com/a HTTP/1.1|contoso-my.sharepoint.com|bypass; set=31; category=Optimize; area=SharePoint; match=*.sharepoint.com
REQMOD|GET http://teams.microsoft.com/a HTTP/1.1|teams.microsoft.com|bypass; set=12; category=Allow; area=Skype; match=teams.microsoft.com
REQMOD|GET http://login.microsoftonline.com/a HTTP/1.1|login.microsoftonline.com|bypass; set=56; category=Allow; area=Common; match=login.microsoftonline.com
REQMOD|CONNECT eu.protection.outlook.com:443 HTTP/1.1|eu.protection.outlook.com:443|bypass; set=9; category=Allow; area=Exchange; match=*.protection.outlook.com
REQMOD|CONNECT [2603:1006::1]:443 HTTP/1.1|[2603:1006::1]:443|bypass; set=1; category=Optimize; area=Exchange; match=2603:1006::/40
RESPMOD|GET http://outlook.office.com/r HTTP/1.1|outlook.office.com|bypass; set=1; category=Optimize; area=Exchange; match=outlook.office.com
# AlsoBypass (ports 80 and 443)
REQMOD|GET http://dlp-exempt.example.net/ HTTP/1.1|dlp-exempt.example.net|bypass; reason=also-bypass; match=dlp-exempt.example.net
REQMOD|CONNECT 198.51.100.7:443 HTTP/1.1|198.51.100.7:443|bypass; reason=also-bypass; match=198.51.100.7/32
# inspected: not listed (AlsoBypass does not cover port 8080)
REQMOD|GET http://www.example.org/ HTTP/1.1|www.example.org|inspect; reason=not-listed
REQMOD|CONNECT www.example.org:443 HTTP/1.1|www.example.org:443|inspect; reason=not-listed
RESPMOD|GET http://www.example.org/r HTTP/1.1|www.example.org|inspect; reason=not-listed
REQMOD|GET http://dlp-exempt.example.net:8080/ HTTP/1.1|dlp-exempt.example.net:8080|inspect; reason=not-listed
# inspected: listed, not for this port
REQMOD|GET http://outlook.office365.com:8080/ HTTP/1.1|outlook.office365.com:8080|inspect; reason=port; set=1;
REQMOD|CONNECT teams.microsoft.com:8443 HTTP/1.1|teams.microsoft.com:8443|inspect; reason=port; set=12;
# inspected: category Default
REQMOD|GET http://www.office.com/ HTTP/1.1|www.office.com|inspect; reason=category; set=147; category=Default
REQMOD|CONNECT autodiscover.fabrikam.onmicrosoft.com:443 HTTP/1.1|autodiscover.fabrikam.onmicrosoft.com:443|inspect; reason=category; set=8; category=Default
# inspected: another tenant
REQMOD|GET http://fabrikam.sharepoint.com/ HTTP/1.1|fabrikam.sharepoint.com|inspect; reason=tenant; set=31; category=Optimize; area=SharePoint; match=*.sharepoint.com
REQMOD|CONNECT fabrikam-my.sharepoint.com:443 HTTP/1.1|fabrikam-my.sharepoint.com:443|inspect; reason=tenant; set=31;
# inspected: NeverBypass
REQMOD|GET http://outlook.cloud.microsoft/ HTTP/1.1|outlook.cloud.microsoft|inspect; reason=never-bypass; match=outlook.cloud.microsoft
REQMOD|CONNECT 203.0.113.9:443 HTTP/1.1|203.0.113.9:443|inspect; reason=never-bypass; match=203.0.113.0/24
# refused: malformed (userinfo, bad port, CONNECT without port, two Host headers, ftp)
REQMOD|GET http://user@outlook.office365.com/ HTTP/1.1|outlook.office365.com|inspect; reason=malformed; detail=userinfo
REQMOD|GET http://outlook.office365.com:99999/ HTTP/1.1|outlook.office365.com:99999|inspect; reason=malformed; detail=bad-port
REQMOD|CONNECT outlook.office365.com HTTP/1.1|outlook.office365.com|inspect; reason=malformed; detail=bad-port
REQMOD|GET http://outlook.office365.com/ HTTP/1.1|outlook.office365.com,outlook.office365.com|inspect; reason=malformed; detail=duplicate-host
REQMOD|GET ftp://outlook.office365.com/ HTTP/1.1|outlook.office365.com|inspect; reason=malformed; detail=bad-scheme
# refused: the Host header names another host than the URL
REQMOD|GET http://outlook.office365.com/ HTTP/1.1|evil.example|inspect; reason=host-mismatch; detail=host-mismatch
REQMOD|CONNECT outlook.office.com:443 HTTP/1.1|www.example.org:443|inspect; reason=host-mismatch; detail=host-mismatch
EOF
    run_rows A "$E2E_DIR/A.spec"

    # bulk: 3 hosts x (get, connect, respmod) x 10 over 6 connections
    icapload_binary
    timeout 60 "$ICAPLOAD" -u "icap://127.0.0.1:$CICAP_PORT/o365bypass" -c 6 -n 90 -t 5 \
        -k get,connect,respmod -H outlook.office365.com,www.example.org,fabrikam.sharepoint.com \
        -X 'X-O365bypass-Decision: bypass' > "$E2E_DIR/A.icapload.out" 2>&1 \
        || fail "A: icapload failed: $(tail -n 3 "$E2E_DIR/A.icapload.out")"
    load_line=$(grep '^requests=' "$E2E_DIR/A.icapload.out" || true)
    check_contains "requests=90 " "$load_line" "A: icapload requests"
    check_contains " errors=0 " "$load_line" "A: icapload errors"
    check_contains "match_count=30" "$load_line" "A: icapload answers starting with bypass"

    # a reload from disk (no cache file: the seed) in every child
    cicap_ctl o365bypass_reload || fail "A: cannot write o365bypass_reload"
    wait_until 10 _counter_is "table loads" "$CHILDREN" || true
    sleep 1.5   # a child tick (1 s) must not load it a second time

    # rows: 8 table bypasses (Optimize 5: Exchange 3 + SharePoint 2; Allow 3:
    # Skype, Common, Exchange), 2 AlsoBypass, inspected 4 not listed, 2 port,
    # 2 category, 2 tenant, 2 NeverBypass, 5 malformed, 2 mismatch = 29 rows,
    # 2 RESPMOD, 10 CONNECT (8 well-formed, 1 without port, 1 Host mismatch:
    # a CONNECT is counted whatever its fate); icapload: 30 GET + 30 CONNECT + 30
    # RESPMOD, one third each outlook.office365.com (bypass Optimize
    # Exchange), www.example.org (not listed), fabrikam.sharepoint.com (tenant)
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_A=(
        ["REQMOD requests"]=$(( 27 + 60 )) ["RESPMOD requests"]=$(( 2 + 30 ))
        ["CONNECT requests"]=$(( 10 + 30 ))
        ["bypassed"]=$(( 10 + 30 )) ["inspected"]=$(( 19 + 60 ))
        ["bypassed Optimize"]=$(( 5 + 30 )) ["bypassed Allow"]=3
        ["bypassed Exchange"]=$(( 4 + 30 )) ["bypassed SharePoint"]=2
        ["bypassed Skype"]=1 ["bypassed Common"]=1
        ["AlsoBypass hits"]=2 ["NeverBypass hits"]=2
        ["inspected not listed"]=$(( 4 + 30 )) ["inspected port not listed"]=2
        ["inspected category"]=2 ["inspected other tenant"]=$(( 2 + 30 ))
        ["refused malformed"]=5 ["refused Host mismatch"]=2
        ["table loads"]=$CHILDREN
    )
    check_counters A EXPECT_A
    check_eq 87 "${CICAP_STATS[Service o365bypass REQMODS]:-?}" "A: c-icap's own REQMODS"
    check_eq 32 "${CICAP_STATS[Service o365bypass RESPMODS]:-?}" "A: c-icap's own RESPMODS"
    check_eq 119 "${CICAP_STATS[Service o365bypass ALLOW 204]:-?}" "A: c-icap's own ALLOW 204"

    # access log attributes
    logs_settle "$O365_LOG"
    check_eq 1 "$(o365_log_count 'REQMOD o365bypass bypass table 12 Allow Skype teams.microsoft.com')" \
        "A: access log, bypassed by the table"
    check_eq 1 "$(o365_log_count 'RESPMOD o365bypass bypass table 1 Optimize Exchange outlook.office.com')" \
        "A: access log, RESPMOD bypassed"
    check_eq 1 "$(o365_log_count 'REQMOD o365bypass bypass also-bypass - - - 198.51.100.7/32')" \
        "A: access log, AlsoBypass"
    check_eq 11 "$(o365_log_count 'RESPMOD o365bypass inspect not-listed - - - -')" \
        "A: access log, RESPMOD inspected (not listed)"
    check_eq 22 "$(o365_log_count 'REQMOD o365bypass inspect tenant 31 Optimize SharePoint *.sharepoint.com')" \
        "A: access log, inspected (tenant) with its set"
    check_eq 1 "$(o365_log_count 'REQMOD o365bypass inspect never-bypass - - - 203.0.113.0/24')" \
        "A: access log, NeverBypass"
    check_eq 5 "$(o365_log_count 'REQMOD o365bypass inspect malformed - - - -')" \
        "A: access log, malformed"
    check_eq 2 "$(o365_log_count 'REQMOD o365bypass inspect host-mismatch - - - -')" \
        "A: access log, Host mismatch"
    check_eq 119 "$(grep -cE '^(REQMOD|RESPMOD) o365bypass (bypass|inspect) ' "$O365_LOG" || true)" \
        "A: access log lines with a verdict"

    # server log at DebugLevel 7: the table, never a request
    check_eq 1 "$(module_log_lines "start-up table from $SEED, version \(no version: seed\): 64 sets, 333 entries" | grep -c . || true)" \
        "A: start-up table line"
    check_eq "$CHILDREN" "$(module_log_lines 'reload command: table seed-[0-9a-f]+ in use in pid' | grep -vc 'main proc' || true)" \
        "A: one reload line per child"
    check_eq 0 "$(module_log_lines ' -> |example\.org|office365\.com|sharepoint\.com' | grep -v ': endpoint table ' | grep -c . || true)" \
        "A: module lines about single requests at DebugLevel 7"
    check_eq 1 "$(module_log_lines 'reload command: endpoint table \(no version: seed\) -> \(no version: seed\): sets \+0 -0 ~0' | grep -c . || true)" \
        "A: the master logs the reload and what it changed"
    cicap_stop
}

# ---- B: Default bypassed, RequiredOnly, MEM and an unknown area --------------------------------

phase_b() {
    e2e_log "---- B: all categories, RequiredOnly, MEM + unknown area"
    "$PYTHON3" - "$SEED" "$E2E_DIR/seed-b.json" <<'EOF'
import json, sys
sets = json.load(open(sys.argv[1], encoding="utf-8"))
sets.append({"id": 9001, "serviceArea": "MEM", "serviceAreaDisplayName": "Microsoft Intune",
             "urls": ["enroll.mem-test.example"], "tcpPorts": "443", "expressRoute": False,
             "category": "Allow", "required": True})
sets.append({"id": 9002, "serviceArea": "Viva", "serviceAreaDisplayName": "An area unknown today",
             "urls": ["*.viva-future.example"], "tcpPorts": "80,443", "expressRoute": False,
             "category": "Optimize", "required": True})
json.dump(sets, open(sys.argv[2], "w", encoding="utf-8"), indent=2)
EOF
    start_instance B 8 \
        "o365bypass.SeedFile $E2E_DIR/seed-b.json" \
        "o365bypass.RefreshInterval 0" \
        "o365bypass.BypassCategories Optimize Allow Default" \
        "o365bypass.RequiredOnly on"
    cat > "$E2E_DIR/B.spec" <<'EOF'
REQMOD|GET http://www.office.com/ HTTP/1.1|www.office.com|bypass; set=147; category=Default; area=Common; match=*.office.com
RESPMOD|GET http://www.office.com/r HTTP/1.1|www.office.com|bypass; set=147; category=Default; area=Common; match=*.office.com
REQMOD|CONNECT mail.outlook.com:443 HTTP/1.1|mail.outlook.com:443|bypass; set=8; category=Default; area=Exchange; match=*.outlook.com
REQMOD|CONNECT admin.onedrive.com:443 HTTP/1.1|admin.onedrive.com:443|bypass; set=35; category=Default; area=SharePoint; match=admin.onedrive.com
REQMOD|GET http://web.skype.com/ HTTP/1.1|web.skype.com|bypass; set=127; category=Default; area=Skype; match=*.skype.com
REQMOD|CONNECT enroll.mem-test.example:443 HTTP/1.1|enroll.mem-test.example:443|bypass; set=9001; category=Allow; area=MEM; match=enroll.mem-test.example
REQMOD|GET http://a.viva-future.example/ HTTP/1.1|a.viva-future.example|bypass; set=9002; category=Optimize; area=Viva; match=*.viva-future.example
REQMOD|GET http://outlook.office365.com/ HTTP/1.1|outlook.office365.com|bypass; set=1; category=Optimize; area=Exchange
REQMOD|CONNECT x.msocdn.com:443 HTTP/1.1|x.msocdn.com:443|inspect; reason=optional; set=78; category=Default
REQMOD|CONNECT outlook.office365.com:587 HTTP/1.1|outlook.office365.com:587|inspect; reason=optional; set=2; category=Allow
REQMOD|GET http://adl.windows.com/ HTTP/1.1|adl.windows.com|inspect; reason=optional; set=19; category=Default; area=Skype
REQMOD|GET http://www.example.org/ HTTP/1.1|www.example.org|inspect; reason=not-listed
EOF
    run_rows B "$E2E_DIR/B.spec"
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_B=(
        ["REQMOD requests"]=11 ["RESPMOD requests"]=1 ["CONNECT requests"]=5
        ["bypassed"]=8 ["inspected"]=4
        ["bypassed Optimize"]=2 ["bypassed Allow"]=1 ["bypassed Default"]=5
        ["bypassed Exchange"]=2 ["bypassed SharePoint"]=1 ["bypassed Skype"]=1
        ["bypassed Common"]=2 ["bypassed MEM"]=1 ["bypassed other area"]=1
        ["inspected optional"]=3 ["inspected not listed"]=1
    )
    check_counters B EXPECT_B
    logs_settle "$CICAP_SERVER_LOG"
    check_eq 12 "$(module_log_lines ' -> (bypass|inspect);' | grep -c . || true)" \
        "B: one trace line per request at DebugLevel 8"
    check_eq 1 "$(module_log_lines 'GET http://a\.viva-future\.example/ HTTP/1\.1 -> bypass; set=9002;' | grep -c . || true)" \
        "B: the trace line names the request and the decision"
    cicap_stop
}

# ---- C: ServiceAreas Exchange ------------------------------------------------------------------

phase_c() {
    e2e_log "---- C: ServiceAreas Exchange"
    start_instance C 3 \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.RefreshInterval 0" \
        "o365bypass.ServiceAreas Exchange"
    cat > "$E2E_DIR/C.spec" <<'EOF'
REQMOD|GET http://outlook.office365.com/ HTTP/1.1|outlook.office365.com|bypass; set=1; category=Optimize; area=Exchange
REQMOD|CONNECT eu.protection.outlook.com:443 HTTP/1.1|eu.protection.outlook.com:443|bypass; set=9; category=Allow; area=Exchange
REQMOD|GET http://contoso.sharepoint.com/ HTTP/1.1|contoso.sharepoint.com|inspect; reason=service-area; set=31; category=Optimize; area=SharePoint
REQMOD|CONNECT teams.microsoft.com:443 HTTP/1.1|teams.microsoft.com:443|inspect; reason=service-area; set=12; category=Allow; area=Skype
RESPMOD|GET http://login.microsoftonline.com/ HTTP/1.1|login.microsoftonline.com|bypass; set=56; category=Allow; area=Common
RESPMOD|GET http://contoso-my.sharepoint.com/ HTTP/1.1|contoso-my.sharepoint.com|inspect; reason=service-area; set=31; category=Optimize; area=SharePoint
REQMOD|GET http://www.office.com/ HTTP/1.1|www.office.com|inspect; reason=category; set=147
EOF
    run_rows C "$E2E_DIR/C.spec"
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_C=(
        ["REQMOD requests"]=5 ["RESPMOD requests"]=2 ["CONNECT requests"]=2
        ["bypassed"]=3 ["inspected"]=4
        ["bypassed Optimize"]=1 ["bypassed Allow"]=2 ["bypassed Exchange"]=2
        ["bypassed Common"]=1
        ["inspected service area"]=3 ["inspected category"]=1
    )
    check_counters C EXPECT_C
    cicap_stop
}

# ---- T: TLS - decrypted requests, the SNI, the generated CONNECT ------------------------------

# What an ssl-bump Squid sends: bumped requests arrive with an https URL (or,
# for the absolute form inside the tunnel, plain http to port 443) and a Host
# the client wrote; with `adaptation_meta X-O365bypass-SNI "%ssl::>sni"` the
# client's TLS server name comes along.  T1 runs the default
# (DecryptedRequests inspect), T2 sni-bound.
phase_t() {
    e2e_log "---- T1: DecryptedRequests inspect (default)"
    start_instance T1 3 \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.RefreshInterval 0"
    cat > "$E2E_DIR/T1.spec" <<'EOF'
# decrypted: never bypassed by default, whatever Host and SNI say
REQMOD|GET https://outlook.office.com/owa/ HTTP/1.1|outlook.office.com|inspect; reason=decrypted
REQMOD;sni=outlook.office.com|POST https://outlook.office.com/exfil HTTP/1.1|outlook.office.com|inspect; reason=decrypted
REQMOD|POST http://outlook.office.com:443/exfil HTTP/1.1|outlook.office.com:443|inspect; reason=decrypted
RESPMOD|GET https://contoso.sharepoint.com/r HTTP/1.1|contoso.sharepoint.com|inspect; reason=decrypted
# the forged-Host reproducer: the SNI names the real destination
REQMOD;sni=evil.example|POST https://outlook.office.com/exfil HTTP/1.1|outlook.office.com|inspect; reason=sni-mismatch; sni=evil.example
REQMOD;sni=outlook.office.com|CONNECT evil.example:443 HTTP/1.1|evil.example:443|inspect; reason=sni-mismatch; sni=outlook.office.com
REQMOD;sni=52.96.1.1|CONNECT 52.96.1.1:443 HTTP/1.1|52.96.1.1:443|inspect; reason=sni-mismatch; sni=invalid
# not decrypted: the tunnels themselves, and Squid's generated CONNECT
# (peek, then splice at step 2: Host without port, on any port)
REQMOD;sni=-|CONNECT outlook.office.com:443 HTTP/1.1|outlook.office.com:443|bypass; set=1; category=Optimize; area=Exchange
REQMOD;sni=outlook.office365.com|CONNECT outlook.office365.com:993 HTTP/1.1|outlook.office365.com|bypass; set=2; category=Allow; area=Exchange
REQMOD|CONNECT outlook.office365.com:993 HTTP/1.1|outlook.office365.com:443|inspect; reason=host-mismatch
EOF
    run_rows T1 "$E2E_DIR/T1.spec"
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_T1=(
        ["REQMOD requests"]=9 ["RESPMOD requests"]=1 ["CONNECT requests"]=5
        ["bypassed"]=2 ["inspected"]=8
        ["bypassed Optimize"]=1 ["bypassed Allow"]=1 ["bypassed Exchange"]=2
        ["inspected decrypted"]=4 ["inspected SNI mismatch"]=3 ["refused Host mismatch"]=1
    )
    check_counters T1 EXPECT_T1
    logs_settle "$O365_LOG"
    check_eq 3 "$(o365_log_count 'REQMOD o365bypass inspect decrypted - - - -')" \
        "T1: access log, REQMOD decrypted"
    check_eq 1 "$(o365_log_count 'RESPMOD o365bypass inspect decrypted - - - -')" \
        "T1: access log, RESPMOD decrypted"
    check_eq 3 "$(o365_log_count 'REQMOD o365bypass inspect sni-mismatch - - - -')" \
        "T1: access log, SNI mismatch"
    cicap_stop

    e2e_log "---- T2: DecryptedRequests sni-bound"
    start_instance T2 3 \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.RefreshInterval 0" \
        "o365bypass.DecryptedRequests sni-bound"
    cat > "$E2E_DIR/T2.spec" <<'EOF'
# bound: the client's SNI is the request's host; then the table and policy decide
REQMOD;sni=outlook.office.com|GET https://outlook.office.com/owa/ HTTP/1.1|outlook.office.com|bypass; set=1; category=Optimize; area=Exchange; match=outlook.office.com
RESPMOD;sni=Outlook.Office.com.|GET https://outlook.office.com/r HTTP/1.1|outlook.office.com|bypass; set=1; category=Optimize
REQMOD;sni=www.office.com|GET https://www.office.com/ HTTP/1.1|www.office.com|inspect; reason=category; set=147
# unbound: no SNI, Squid's "-", a foreign or malformed one
REQMOD|GET https://outlook.office.com/owa/ HTTP/1.1|outlook.office.com|inspect; reason=decrypted; detail=no-sni
REQMOD;sni=-|POST http://outlook.office.com:443/exfil HTTP/1.1|outlook.office.com:443|inspect; reason=decrypted; detail=no-sni
REQMOD;sni=evil.example|POST https://outlook.office.com/exfil HTTP/1.1|outlook.office.com|inspect; reason=sni-mismatch; sni=evil.example
REQMOD;sni=evil.example|POST http://outlook.office.com:443/exfil HTTP/1.1|outlook.office.com:443|inspect; reason=sni-mismatch; sni=evil.example
REQMOD;sni=outlook.office.com:443|GET https://outlook.office.com/ HTTP/1.1|outlook.office.com|inspect; reason=sni-mismatch; sni=invalid
EOF
    run_rows T2 "$E2E_DIR/T2.spec"
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_T2=(
        ["REQMOD requests"]=7 ["RESPMOD requests"]=1
        ["bypassed"]=2 ["inspected"]=6
        ["bypassed Optimize"]=2 ["bypassed Exchange"]=2
        ["inspected category"]=1 ["inspected decrypted"]=2 ["inspected SNI mismatch"]=3
    )
    check_counters T2 EXPECT_T2
    cicap_stop
}

# ---- R: refresh outcomes -----------------------------------------------------------------------




# refresh_step WHAT COMMAND LABEL VALUE: write COMMAND, wait (10 s) until
# counter LABEL is VALUE.
refresh_step() {
    local t0=$EPOCHREALTIME
    cicap_ctl "$2" || fail "$1: cannot write $2"
    wait_until 10 _counter_is "$3" "$4" \
        || check_eq "$4" "$(counter "$3")" "$1: counter '$3' after $2"
    e2e_log "R: $1: '$3' = $4 after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

# loads_reach N: wait (5 s) until every child loaded the new table.
loads_reach() {
    wait_until 5 _counter_is "table loads" "$1" \
        || check_eq "$1" "$(counter "table loads")" "R: counter 'table loads' within 5 s"
}

# The instance R is started first and left alone while A, B and C run: its
# first refresh is the automatic one (due 10 s after start, master tick
# every 5 s), so no command can race it, and nobody waits for it.
start_r() {
    e2e_log "---- R: started now, its automatic first refresh happens while A-C run"
    start_feed 2025111400 "$FEED_FILE"
    start_instance R 1 \
        "o365bypass.SeedFile $SEED" \
        "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT" \
        "o365bypass.RefreshInterval 3600" \
        "o365bypass.ConnectTimeout 2" \
        "o365bypass.FetchTimeout 5"
    check_options "R at start" seed 64 333
    check_eq "-" "$(sub_field result "$REFRESH_HDR")" "R: no refresh result yet"
    R_STARTED=$SECONDS
    remember_instance R
}

phase_r() {
    local refresh attempt success next cache
    e2e_log "---- R: refresh outcomes from a loopback feed"
    use_instance R
    cache="$E2E_DIR/R-cache/endpoints-Worldwide.json"
    wait_until 25 _counter_is "refresh updated" 1 \
        || check_eq 1 "$(counter "refresh updated")" "R: counter 'refresh updated' by the automatic first refresh"
    e2e_log "R: automatic first refresh seen $(( SECONDS - R_STARTED )) s after start"
    check_eq "1 1" "$(feed_calls version) $(feed_calls endpoints)" "R: /version and /endpoints calls of the first refresh"
    loads_reach "$CHILDREN"
    check_options "R after the update" 2025111400 64 333
    refresh=$REFRESH_HDR
    attempt=$(sub_field last-attempt "$refresh")
    success=$(sub_field last-success "$refresh")
    next=$(sub_field next "$refresh")
    check_eq 3600 "$(sub_field interval "$refresh")" "R: X-O365bypass-Refresh interval"
    check_eq "$attempt" "$success" "R: last-success = last-attempt after the update"
    check_ge "$(( $(date +%s) - 60 ))" "${attempt:-0}" "R: last-attempt is recent"
    check_ge "$(( attempt + 3600 ))" "${next:-0}" "R: next is an interval away"
    check_eq "updated to 2025111400" "$(sub_field result "$refresh")" "R: refresh result"

    refresh_step "not modified" o365bypass_refresh "refresh not modified" 1
    options_heads
    refresh=$(head_field X-O365bypass-Refresh "$OPT_HEADS")
    check_eq "not modified" "$(sub_field result "$refresh")" "R: refresh result when not modified"
    success=$(sub_field last-success "$refresh")
    check_ge "$attempt" "${success:-0}" "R: last-success advanced by the not-modified check"
    feed_control "fault=500"
    refresh_step "HTTP 500" o365bypass_refresh "refresh failed" 1
    options_heads
    refresh=$(head_field X-O365bypass-Refresh "$OPT_HEADS")
    check_prefix "failed: " "$(sub_field result "$refresh")" "R: refresh result after HTTP 500"
    check_eq "$success" "$(sub_field last-success "$refresh")" "R: last-success kept after a failure"
    feed_control "version=2025111500&fault=invalid-json&target=endpoints"
    refresh_step "invalid JSON" o365bypass_refresh "refresh refused invalid" 1
    cat > "$E2E_DIR/small.json" <<'EOF'
[{"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com"], "tcpPorts": "443",
  "category": "Optimize", "required": true},
 {"id": 31, "serviceArea": "SharePoint", "urls": ["*.sharepoint.com"], "tcpPorts": "443",
  "category": "Optimize", "required": true},
 {"id": 56, "serviceArea": "Common", "ips": ["2603:1006::/40"], "tcpPorts": "443",
  "category": "Allow", "required": true}]
EOF
    feed_control "fault=none&version=2025111600&file=$E2E_DIR/small.json"
    refresh_step "shrink guard" o365bypass_refresh "refresh refused shrink guard" 1
    check_options "R while the guard holds the small table back" 2025111400 64 333
    refresh_step accept o365bypass_accept "refresh accepted" 1
    loads_reach "$(( 2 * CHILDREN ))"
    check_options "R after accept" 2025111600 3 3
    # the small table plus a registrable domain it does not bypass
    "$PYTHON3" -c 'import json, sys; t = json.load(open(sys.argv[1])); t.append({"id": 990,
"serviceArea": "Common", "urls": ["*.amazonaws.com"], "category": "Optimize", "required": True})
json.dump(t, open(sys.argv[2], "w"))' "$E2E_DIR/small.json" "$E2E_DIR/grown.json"
    feed_control "version=2025111650&file=$E2E_DIR/grown.json"
    refresh_step "grow guard" o365bypass_refresh "refresh refused grow guard" 1
    check_options "R while the grow guard holds a table back" 2025111600 3 3
    feed_control "version=2025111700&fault=429&target=endpoints"
    refresh_step "HTTP 429" o365bypass_refresh "refresh throttled" 1
    local endpoints_calls
    endpoints_calls=$(feed_calls endpoints)
    refresh_step "inside the 429 wait" o365bypass_refresh "refresh throttled" 2
    check_eq "$endpoints_calls" "$(feed_calls endpoints)" "R: no /endpoints call inside the 429 wait"
    check_eq 5 "$endpoints_calls" "R: /endpoints calls (update, invalid, shrink, grow, 429)"
    printf '{"o365bypass": 1, "endpoints": [{"id": ' > "$cache"
    refresh_step "reload over a corrupt cache file" o365bypass_reload "table load failures" "$CHILDREN"
    sleep 1.5   # a child tick (1 s) must not count it again
    check_options "R after the failed reload" 2025111600 3 3
    # shellcheck disable=SC2034 # read by name in check_counters
    declare -gA EXPECT_R=(
        ["refresh updated"]=1 ["refresh not modified"]=1 ["refresh failed"]=1
        ["refresh refused invalid"]=1 ["refresh refused shrink guard"]=1
        ["refresh refused grow guard"]=1
        ["refresh throttled"]=2 ["refresh accepted"]=1
        ["table loads"]=$(( 2 * CHILDREN )) ["table load failures"]=$CHILDREN
    )
    check_counters R EXPECT_R
    # DebugLevel 1: what happened, and nothing of level 3
    logs_settle "$CICAP_SERVER_LOG"
    check_eq 1 "$(module_log_lines 'start-up table from .*endpoints-worldwide\.json, version \(no version: seed\): 64 sets, 333 entries \(SeedFile\)' | grep -c . || true)" \
        "R: start-up table line (source, version, counts) at level 1"
    check_eq 1 "$(module_log_lines 'refresh: endpoint table \(no version: seed\) -> 2025111400: ' | grep -c . || true)" \
        "R: table change seed -> 2025111400 at level 1"
    check_eq 1 "$(module_log_lines 'accept: endpoint table 2025111400 -> 2025111600: ' | grep -c . || true)" \
        "R: table change 2025111400 -> 2025111600 (accept) at level 1"
    check_eq 1 "$(module_log_lines 'accept: the table held back by the shrink or grow guard is now in use' | grep -c . || true)" \
        "R: accept line at level 1"
    check_ge 1 "$(module_log_lines 'refresh failed; the table in use stays' | grep -c . || true)" \
        "R: failed refresh logged at level 1"
    check_eq "$CHILDREN" "$(module_log_lines 'reload command: table not reloaded, the one in use stays' | grep -vc 'main proc' || true)" \
        "R: failed reload logged by every child"
    check_eq 0 "$(module_log_lines 'in use in pid|refresh every|the table in use is the latest' | grep -c . || true)" \
        "R: no level-3 lines at DebugLevel 1"
    cicap_stop
}

# ---- main -------------------------------------------------------------------------------------

[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
write_client
read_labels
: > "$E2E_DIR/summary.txt"
# E2E_PHASES="a b c t r" (the default) runs every phase; a subset is for
# debugging and skips the "every counter proven" check.
PHASES=${E2E_PHASES:-a b c t r}
if [[ " $PHASES " == *" r "* ]]; then start_r; fi
for phase in $PHASES; do "phase_$phase"; done
if [[ "$PHASES" == "a b c t r" ]]; then
    for label in "${LABELS[@]}"; do
        [[ -n "${PROVEN[$label]:-}" ]] \
            || check_eq "proven" "not proven" "counter '$label' exact and non-zero in some instance"
    done
fi
cat "$E2E_DIR/summary.txt" >&2
e2e_log "${#PROVEN[@]} of ${#LABELS[@]} counters proven with exact non-zero values; total $(( SECONDS - T_START )) s"
check_done
