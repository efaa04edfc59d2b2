#!/bin/bash
# e2e-trust.sh - a poisoned feed never widens the hole (issue 10).
#
# A real c-icap with CHILDREN children follows a loopback feed
# (tests/tools/feedserver.py) serving Microsoft's real Worldwide table A,
# then poisoned versions of it, with TenantName contoso and the default
# policy (Optimize and Allow bypassed):
#   refused  six feeds, each A plus one item that is refused outright as
#            invalid: *.co.uk (added to set 1), *.github.io,
#            *.azurewebsites.net, 3.0.0.0/8, 34.0.0.0/8 and 2600::/16 (each
#            in a set of its own).  Each refresh counts "refresh refused
#            invalid", logs the entry, leaves no pending table; every child
#            keeps A and inspects hosts and addresses under each item.
#   held     one feed that is only held back by the grow guard: A plus
#            *.amazonaws.com (new Optimize set 990), a new Optimize set 991
#            holding *.office.net (Default in A), set 147 flipped Default ->
#            Optimize (so www.office.com), 3.5.0.0/16 (new Optimize set 992)
#            and set 31's *.sharepoint.com written **.sharepoint.com.  The
#            refresh counts "refresh refused grow guard" and logs its
#            findings; OPTIONS (X-O365bypass-Refresh result=grow-guard),
#            `o365bypass show` (PENDING) and the counter show it; every child
#            keeps A and inspects everything under the poisoned items, while
#            A's own entries stay bypassed.
#   accept   o365bypass_accept makes the held table live in every child: its
#            new entries are bypassed now (the admin took them), the pending
#            file is gone, "refresh accepted" counts it.  evil.sharepoint.com
#            (under **.sharepoint.com) must still be inspected because of
#            TenantName: tenant pinning holds for any number of stars.
#   cli      `o365bypass fetch` into a CacheDir of its own: the held feed is
#            refused (exit 2, grow-guard, pending file), `fetch --force`
#            takes it (the guards skipped, the pending file gone).
# Requests are ICAP REQMODs straight to c-icap (CONNECT host:443 as Squid
# sends it, and GET http://host/ for names), answered in every child.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

FILE_A=tests/data/worldwide-2025-11-14.json
VERSION_A=2025111400
VERSION_HELD=2025120100
CHILDREN=2
THREADS_PER_CHILD=4
# A's own entries: bypassed before, during and after (set 1, set 31 for contoso)
GOOD_TARGETS=(outlook.office365.com:443 contoso.sharepoint.com:443)
# item|where|hosts and addresses under it (all must be inspected)
REFUSED_ITEMS=(
    '*.co.uk|set:1|www.example.co.uk:443 http://shop.example.co.uk/'
    '*.github.io|new|evil.github.io:443 http://evil.github.io/'
    '*.azurewebsites.net|new|evil.azurewebsites.net:443'
    '3.0.0.0/8|new|3.1.2.3:443'
    '34.0.0.0/8|new|34.1.2.3:443'
    '2600::/16|new|[2600::1]:443'
)
HELD_TARGETS=(x.amazonaws.com:443 http://bucket.s3.amazonaws.com/ www.office.com:443
              http://www.office.com/ cdn.office.net:443 3.5.1.1:443)
TENANT_TARGET=evil.sharepoint.com:443

e2e_init trust
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"
[[ -x "$O3B_CLI" ]] || hard_error "CLI not built: $O3B_CLI"

# ---- the poisoned feeds ------------------------------------------------------------

# make_feed OUT ITEM WHERE: A plus ITEM (a pattern or a CIDR), added to set
# N for WHERE=set:N, else in a new Optimize set.
make_feed() {
    "$PYTHON3" - "$top_srcdir/$FILE_A" "$@" <<'EOF'
import json, sys
src, out, item, where = sys.argv[1:5]
sets = json.load(open(src))
field = "ips" if "/" in item else "urls"
if where.startswith("set:"):
    s = next(s for s in sets if s["id"] == int(where[4:]))
    s.setdefault(field, []).append(item)
else:
    sets.append({"id": 900 + len(sets), "serviceArea": "Common", field: [item],
                 "tcpPorts": "80,443", "category": "Optimize", "required": True})
json.dump(sets, open(out, "w"), indent=2)
EOF
}

# make_held_feed OUT: A plus everything only the grow guard holds back.
make_held_feed() {
    "$PYTHON3" - "$top_srcdir/$FILE_A" "$1" <<'EOF'
import json, sys
src, out = sys.argv[1:3]
sets = json.load(open(src))
def new_set(sid, field, items):
    sets.append({"id": sid, "serviceArea": "Common", field: items, "tcpPorts": "80,443",
                 "category": "Optimize", "required": True})
new_set(990, "urls", ["*.amazonaws.com"])
new_set(991, "urls", ["*.office.net"])
new_set(992, "ips", ["3.5.0.0/16"])
for s in sets:
    if s["id"] == 147:
        s["category"] = "Optimize"
    if s["id"] == 31:
        s["urls"] = ["**.sharepoint.com" if u == "*.sharepoint.com" else u for u in s["urls"]]
json.dump(sets, open(out, "w"), indent=2)
EOF
}

# ---- helpers -------------------------------------------------------------------------

probe() { icap_probe_children "$PIDS" $(( CHILDREN * THREADS_PER_CHILD - 1 )) "$@"; }

# probe_at VERSION TARGET...: probe until every child serves VERSION (10 s).
# One probe can miss a child: c-icap may queue a connection in a child whose
# threads are all held, and the probe then ends that round; so probe again.
_probe_at() { local v=$1; shift; probe "$@"; probe_all_at "$PIDS" "$v"; }
probe_at() { wait_until 10 _probe_at "$@"; }

# check_every_child DECISION WHAT TARGET...: from the last probe.
check_every_child() {
    local want=$1 what=$2 pid line target
    shift 2
    for pid in ${PIDS//,/ }; do
        line=$(awk -v p="$pid" '$1 == p' <<< "$PROBE_OUT")
        for target in "$@"; do
            check_contains " $target=$want" " ${line#* }" "$what: child $pid, $target"
        done
    done
}

_counter_at_least() { (( $(cicap_counter "$1") >= $2 )); }

# refresh_counted LABEL: o365bypass_refresh, then wait until LABEL grew by one.
refresh_counted() {
    local before
    before=$(cicap_counter "$1")
    cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
    wait_until 10 _counter_at_least "$1" $(( before + 1 )) \
        || check_eq "$(( before + 1 ))" "$(cicap_counter "$1")" "counter '$1'"
}

options_refresh_header() {
    timeout 5 "$CICAP_CLIENT" -i 127.0.0.1 -p "$CICAP_PORT" -s o365bypass 2>&1 \
        | grep -m1 -F 'X-O365bypass-Refresh:' || true
}

# ---- set-up ---------------------------------------------------------------------------

mkdir -p "$E2E_DIR/cache" "$E2E_DIR/feeds"
start_feed "$VERSION_A" "$FILE_A"
fixed_children "$CHILDREN" "$THREADS_PER_CHILD"
start_cicap "${FIXED_CHILDREN[@]}" \
    "Service o365bypass $O3B_MODULE" \
    "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
    "o365bypass.CacheDir $E2E_DIR/cache" \
    "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT" \
    "o365bypass.RefreshInterval 3600" \
    "o365bypass.ConnectTimeout 2" \
    "o365bypass.FetchTimeout 5" \
    "o365bypass.TenantName contoso"
wait_until 10 eval '[[ $(cicap_child_pids | tr , "\n" | grep -c .) -eq $CHILDREN ]]' \
    || fail "c-icap did not start $CHILDREN children: $(cicap_child_pids)"
PIDS=$(cicap_child_pids)
e2e_log "children: $PIDS"
PENDING_FILE=$E2E_DIR/cache/endpoints-Worldwide.pending.json
show() { "$O3B_CLI" -c "$CICAP_DIR/c-icap.conf" show 2>&1 || true; }

# ---- the real table in every child ------------------------------------------------------

cicap_ctl o365bypass_refresh || fail "cannot write o365bypass_refresh"
probe_at "$VERSION_A" "${GOOD_TARGETS[@]}" www.office.com:443 "$TENANT_TARGET" \
    || fail "not every child at $VERSION_A: $PROBE_OUT"
check_every_child bypass "table A" "${GOOD_TARGETS[@]}"
check_every_child inspect "table A (set 147 is Default; another tenant)" www.office.com:443 \
    "$TENANT_TARGET"

# ---- refused outright: invalid, nothing pending, nothing bypassed -------------------------

version=2025112000
for row in "${REFUSED_ITEMS[@]}"; do
    IFS='|' read -r item where targets <<< "$row"
    read -r -a targets <<< "$targets"
    version=$(( version + 1 ))
    feed="$E2E_DIR/feeds/refused-$version.json"
    make_feed "$feed" "$item" "$where"
    feed_control "version=$version&file=$feed"
    log_mark_at=$(wc -l < "$CICAP_SERVER_LOG")
    refresh_counted "refresh refused invalid"
    logs_settle "$CICAP_SERVER_LOG"
    line=$(tail -n "+$(( log_mark_at + 1 ))" "$CICAP_SERVER_LOG" | grep -m1 -F 'refresh invalid' || true)
    check_contains "'$item' is refused" "$line" "$item: the log names the entry"
    [[ ! -e "$PENDING_FILE" ]] || check_eq none pending "$item: no pending table"
    probe_at "$VERSION_A" "${GOOD_TARGETS[@]}" "${targets[@]}" \
        || check_eq "$VERSION_A" "$PROBE_OUT" "$item: children keep A"
    check_every_child inspect "refused $item" "${targets[@]}"
    check_every_child bypass "refused $item: A still serves" "${GOOD_TARGETS[@]}"
    e2e_log "refused $item ($where): ${line##*the table in use stays: }"
done

# ---- held back by the grow guard: visible, nothing bypassed ---------------------------------

make_held_feed "$E2E_DIR/feeds/held.json"
feed_control "version=$VERSION_HELD&file=$E2E_DIR/feeds/held.json"
log_mark_at=$(wc -l < "$CICAP_SERVER_LOG")
refresh_counted "refresh refused grow guard"
logs_settle "$CICAP_SERVER_LOG"
line=$(tail -n "+$(( log_mark_at + 1 ))" "$CICAP_SERVER_LOG" | grep -m1 -F 'refresh grow-guard' || true)
e2e_log "held: ${line##*the table in use stays: }"
check_contains "grow guard: held back (accept it with o365bypass_accept)" "$line" "held: log line"
check_contains "set 147 category '*.office.com' (Default->Optimize)" "$line" "held: set 147 finding"
check_contains "set 990 domain '*.amazonaws.com' (amazonaws.com)" "$line" "held: set 990 finding"
check_contains "finding(s)" "$line" "held: the count"
check_contains "result=grow-guard: grow guard: held back" "$(options_refresh_header)" \
    "held: OPTIONS X-O365bypass-Refresh"
check_contains "PENDING           $PENDING_FILE: version $VERSION_HELD" "$(show)" \
    "held: o365bypass show"
check_contains "last refresh" "$(show)" "held: o365bypass show, last refresh"
check_contains "grow-guard" "$(show | grep 'last refresh' || true)" "held: show names the guard"
check_ge 1 "$(cicap_counter "refresh refused grow guard")" "held: counter"
probe_at "$VERSION_A" "${GOOD_TARGETS[@]}" "${HELD_TARGETS[@]}" "$TENANT_TARGET" \
    || check_eq "$VERSION_A" "$PROBE_OUT" "held: children keep A"
check_every_child inspect "held back" "${HELD_TARGETS[@]}" "$TENANT_TARGET"
check_every_child bypass "held back: A still serves" "${GOOD_TARGETS[@]}"

# ---- accepted: live in every child ----------------------------------------------------------

accepted_before=$(cicap_counter "refresh accepted")
cicap_ctl o365bypass_accept || fail "cannot write o365bypass_accept"
probe_at "$VERSION_HELD" "${GOOD_TARGETS[@]}" "${HELD_TARGETS[@]}" "$TENANT_TARGET" \
    || check_eq "$VERSION_HELD" "$PROBE_OUT" "accept: every child at $VERSION_HELD"
check_every_child bypass "accepted" "${GOOD_TARGETS[@]}" "${HELD_TARGETS[@]}"
wait_until 5 _counter_at_least "refresh accepted" $(( accepted_before + 1 )) \
    || check_eq "$(( accepted_before + 1 ))" "$(cicap_counter "refresh accepted")" \
        "accept: counter"
[[ ! -e "$PENDING_FILE" ]] || check_eq none pending "accept: the pending file is gone"
[[ "$(show)" != *PENDING* ]] || check_eq "no PENDING" "PENDING" "accept: o365bypass show"
check_eq "$PIDS" "$(cicap_child_pids)" "children not restarted"

# evil.sharepoint.com under **.sharepoint.com with TenantName contoso
check_every_child inspect "accepted, TenantName contoso" "$TENANT_TARGET"

# ---- the command line: fetch holds back, fetch --force takes it ---------------------------

cli_conf=$E2E_DIR/cli.conf
mkdir -p "$E2E_DIR/cli-cache"
printf '%s\n' "Service o365bypass srv_o365bypass.so" "o365bypass.CacheDir $E2E_DIR/cli-cache" \
    "o365bypass.SeedFile $top_srcdir/module/data/endpoints-worldwide.json" \
    "o365bypass.ServiceURL http://127.0.0.1:$FEED_PORT" "o365bypass.ConnectTimeout 2" \
    "o365bypass.FetchTimeout 5" "o365bypass.TenantName contoso" > "$cli_conf"
cli_fetch() { CLI_RC=0; CLI_OUT=$("$O3B_CLI" -c "$cli_conf" fetch "$@" 2>&1) || CLI_RC=$?; }
cli_pending=$E2E_DIR/cli-cache/endpoints-Worldwide.pending.json
feed_control "version=$VERSION_A&file=$FILE_A"
cli_fetch
check_eq "0 $VERSION_A updated" "$CLI_RC ${CLI_OUT%%:*}" "cli: fetch A"
feed_control "version=$VERSION_HELD&file=$E2E_DIR/feeds/held.json"
cli_fetch
check_eq 2 "$CLI_RC" "cli: fetch of the held feed exits 2"
check_contains "fetch grow-guard: grow guard: held back" "$CLI_OUT" "cli: fetch names the guard"
[[ -e "$cli_pending" ]] && check_eq pending pending "cli" || check_eq pending none "cli: pending file"
cli_fetch --force
check_eq "0 $VERSION_HELD updated" "$CLI_RC ${CLI_OUT%%:*}" "cli: fetch --force takes it"
[[ ! -e "$cli_pending" ]] || check_eq none pending "cli: fetch --force removes the pending file"
check_contains "version     $VERSION_HELD" "$("$O3B_CLI" -c "$cli_conf" show 2>&1 || true)" \
    "cli: show after fetch --force"

check_done
