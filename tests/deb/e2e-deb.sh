#!/bin/bash
# e2e-deb.sh - the Debian package in Debian's own c-icap, installed, enabled,
# rotated, upgraded, removed and purged by the README's Debian instructions,
# run literally.
#
# The README's section "Operating it on Debian" marks its command blocks with
# `<!-- debian-test: NAME -->`; this test extracts each block and runs its
# text unchanged with `bash -e -o pipefail` (the environment adds only
# DEB_BUILD_OPTIONS=parallel=2, an apt lock timeout and
# SYSTEMCTL_SKIP_REDIRECT=1, which keeps the init script from handing the
# start over to systemd outside the namespace).  Everything runs inside a
# private network namespace the test creates, with only `lo`: Debian's
# c-icap.conf says `Port 1344` (all addresses), so its c-icap is reachable
# only from there, and its refresh cannot reach the internet.
#
# Steps (each check soft, all mismatches reported at the end):
#   build      a clean copy of the tree (git archive of the working tree's
#              tracked files, else a copy without build trees); block
#              `build` (apt-get build-dep, dpkg-buildpackage: the unit tests
#              run inside); lintian at its default level finds no error or
#              warning; the package holds what it must (dpkg -c), its
#              conffile starts with the Service line, Depends names c-icap;
#              then a second copy with a higher version and a changed
#              conffile, built with nocheck (the upgrade)
#   install    block `install`; CacheDir is c-icap's, mode 0750; before the
#              Include, the CLI warns that c-icap.conf does not load the module
#   start      blocks `enable`, `logs`, `start`: Debian's init script starts
#              c-icap inside the namespace, as user c-icap; block `check`: a
#              bypass (X-Next-Services) and an inspect with c-icap-client, and
#              `lookup --server` agrees with the service
#   logs       blocks `logrotate`, `rotate`: the new logs are c-icap's and a
#              new request is logged; block `reload`: the next request is
#              still logged and server.log records the reload; the table
#              survives the reload, the counters start again
#   squid      block `squid`: Debian's squid -k parse accepts the example in
#              conf.d and still has its default access log
#   upgrade    the conffile edited (NeverBypass, block `decisions-log`), block
#              `upgrade`: the edit survives, the new default is beside it as
#              .dpkg-dist, c-icap was not restarted (same master PID), after
#              the reload outlook.office.com is inspected (never-bypass) and
#              the module's own log gets one line per request
#   remove     block `remove`: c-icap keeps running without the module and a
#              fresh start works; block `purge`: conffile and CacheDir gone
#   forgotten  the Include left behind: postrm warns (remove and purge);
#              c-icap -N -D names the missing module / file; a reload makes
#              the running c-icap exit; the init script's start prints nothing
#              and no c-icap runs; with the line deleted it starts again
# At exit, whatever happened: the c-icap processes it started are stopped by
# the PID in Debian's PidFile (never by the init script's stop, which kills
# every c-icap on the host), then any process left in its namespace; the
# package is purged; /etc/c-icap/c-icap.conf, /etc/default/c-icap,
# /etc/logrotate.d/c-icap, /etc/squid/conf.d/o365bypass.conf,
# /var/lib/logrotate/status and /var/log/c-icap are restored byte for byte.
# Skips (exit 77) with a message when not root, when a tool is missing, when
# Debian's c-icap runs or when the package is installed already.
set -euo pipefail
. "$(cd "$(dirname "$0")/../e2e" && pwd)/lib.sh"

PKG=libc-icap-mod-o365bypass
CICAP_CONF=/etc/c-icap/c-icap.conf
README="$top_srcdir/README.md"
BLOCKS_RUN=()

# ---- preconditions --------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || skip "needs root: installs $PKG into Debian's c-icap"
for tool in dpkg-buildpackage dh lintian logrotate ip c-icap c-icap-client squid flock \
    dpkg-parsechangelog apt-get; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool not found (scripts/deps-debian test installs what this test needs)"
done
[[ -x /etc/init.d/c-icap && -f $CICAP_CONF ]] || skip "Debian's c-icap package is not installed"
[[ -f "$README" ]] || hard_error "no README.md in $top_srcdir"
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'installed'; then
    skip "$PKG is installed on this host already: this test would replace and purge it"
fi
PIDFILE=$(sed -n 's/^[[:space:]]*PidFile[[:space:]]\+\([^[:space:]]*\).*/\1/p' "$CICAP_CONF" | tail -n 1)
PIDFILE=${PIDFILE:-/var/run/c-icap/c-icap.pid}
CTL_DIR=$(dirname "$PIDFILE")

W=$(mktemp -d /tmp/o3b-e2e-deb.XXXXXX)
chmod 0755 "$W"
E2E_DIR=$W
E2E_NAME=deb
export E2E_DIR
exec 9> /run/lock/o365bypass-e2e-deb.lock
flock -w 900 9 || hard_error "another e2e-deb.sh holds /run/lock/o365bypass-e2e-deb.lock"
if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    rm -rf -- "$W"
    skip "Debian's c-icap runs on this host (pid $(cat "$PIDFILE")): the test would have to stop it"
fi

# ---- host state: saved first, restored at exit ------------------------------------

SAVED_FILES=(/etc/c-icap/c-icap.conf /etc/default/c-icap /etc/logrotate.d/c-icap
    /etc/squid/conf.d/o365bypass.conf /var/lib/logrotate/status)
SAVED_DIRS=(/etc/c-icap /var/log/c-icap /etc/logrotate.d /etc/squid/conf.d /var/lib/logrotate)
mkdir -p "$W/save"
save_state() {
    local f i=0 d
    for f in "${SAVED_FILES[@]}"; do
        if [[ -e $f ]]; then cp -a -- "$f" "$W/save/file$i"; fi
        i=$(( i + 1 ))
    done
    tar -C /var/log/c-icap -cpf "$W/save/var-log-c-icap.tar" .
    for d in "${SAVED_DIRS[@]}"; do stat -c '%y' "$d" >> "$W/save/dir-mtimes"; done
    [[ -d $CTL_DIR ]] && echo yes > "$W/save/ctl-dir-existed" || echo no > "$W/save/ctl-dir-existed"
}

restore_state() {
    local f i=0 d mtime bad=0
    for f in "${SAVED_FILES[@]}"; do
        if [[ -e "$W/save/file$i" ]]; then
            cp -a -- "$W/save/file$i" "$f"
            cmp -s "$W/save/file$i" "$f" || { echo "restore: $f differs" >&2; bad=1; }
        else
            rm -f -- "$f"
        fi
        i=$(( i + 1 ))
    done
    find /var/log/c-icap -mindepth 1 -delete
    tar -C /var/log/c-icap -xpf "$W/save/var-log-c-icap.tar"
    i=0
    while IFS= read -r mtime; do
        touch -d "$mtime" "${SAVED_DIRS[$i]}"
        i=$(( i + 1 ))
    done < "$W/save/dir-mtimes"
    if [[ "$(cat "$W/save/ctl-dir-existed")" == no ]]; then rm -rf -- "$CTL_DIR"; fi
    (( bad == 0 )) && e2e_log "restored ${SAVED_FILES[*]} and /var/log/c-icap byte for byte"
}
save_state
touch "$W/started"

# c-icap's lock and shared-memory files (/tmp/icap_lock_*,
# /dev/shm/c-icap-shared-kids-queue.*) that appeared since the start and that
# no process holds open any more: what our c-icap instances left behind.
remove_leftovers() {
    local f
    while IFS= read -r f; do
        find /proc/[0-9]*/fd -lname "$f" -print -quit 2>/dev/null | grep -q . && continue
        grep -qsF "$f" /proc/[0-9]*/maps && continue
        rm -f -- "$f" && e2e_log "removed leftover $f"
    done < <(find /tmp /dev/shm -maxdepth 1 -newer "$W/started" \
        \( -name 'icap_lock_*' -o -name 'c-icap-shared-kids-queue.*' \) 2>/dev/null)
}

# ---- the namespace and the c-icap processes started in it -----------------------

NS="o3bdeb$$"
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
NS_INODE=$(stat -L -c %i "/run/netns/$NS")
MASTERS=() # every c-icap master this test started, by PID

cat > "$W/apt.conf" <<'APT'
DPkg::Lock::Timeout "300";
APT

# Stop one c-icap master (TERM, 30 s, KILL) and its children; remove the
# lock and shared-memory files it held open.
stop_master() {
    local pid=$1 children child
    children=$(_child_pids "$pid" || true)
    if _pid_alive "$pid"; then _cicap_record_owned "$pid" "$W/owned-$pid.stop"; fi
    stop_pid "$pid" 30
    for child in $children; do stop_pid "$child" 5; done
    _cicap_remove_owned "$W/owned-$pid"
    _cicap_remove_owned "$W/owned-$pid.stop"
}

cleanup() {
    local rc=$? pid
    set +e
    trap - EXIT INT TERM
    for pid in "${MASTERS[@]}"; do stop_master "$pid"; done
    for pid in $(ip netns pids "$NS" 2>/dev/null); do
        e2e_log "stopping pid $pid left in namespace $NS"
        stop_pid "$pid" 5
    done
    ip netns del "$NS" 2>/dev/null
    remove_leftovers
    if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'installed\|config-files'; then
        e2e_log "purging $PKG"
        DEBIAN_FRONTEND=noninteractive dpkg --purge "$PKG" > "$W/cleanup-purge.log" 2>&1
    fi
    mkdir -p "$W/var-log-c-icap" && cp -a /var/log/c-icap/. "$W/var-log-c-icap/" 2>/dev/null
    restore_state
    if (( rc != 0 )); then
        printf 'e2e deb: exit status %d; logs kept in %s\n' "$rc" "$W" >&2
    elif [[ "${E2E_KEEP:-0}" == 1 ]]; then
        printf 'e2e deb: E2E_KEEP=1, logs kept in %s\n' "$W" >&2
    else
        rm -rf -- "$W"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- README blocks ---------------------------------------------------------------

# The names of the marked blocks, in README order.
readme_block_names() {
    sed -n 's/^<!-- debian-test: \([a-z-]*\) -->$/\1/p' "$README"
}

# The text of block NAME (the fenced block right after its marker).
readme_block() {
    awk -v name="$1" '
        $0 == "<!-- debian-test: " name " -->" { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$README"
}

# run_block NAME DIR: run block NAME literally in DIR inside the namespace;
# its output goes to $W/NAME.log (BLOCK_OUT holds it).  Returns its status.
run_block() {
    local name=$1 dir=$2 file="$W/block-$1.sh" rc=0
    readme_block "$name" > "$file"
    [[ -s $file ]] || hard_error "README.md has no block marked debian-test: $name"
    BLOCKS_RUN+=("$name")
    e2e_log "README block '$name' (in $dir)"
    ( cd "$dir" && in_ns env APT_CONFIG="$W/apt.conf" DEBIAN_FRONTEND=noninteractive \
        SYSTEMCTL_SKIP_REDIRECT=1 _SYSTEMCTL_SKIP_REDIRECT=1 DEB_BUILD_OPTIONS="${BLOCK_BUILD_OPTIONS:-parallel=2}" \
        timeout 900 bash -e -o pipefail "$file" ) > "$W/$name.log" 2>&1 || rc=$?
    BLOCK_OUT=$(cat "$W/$name.log")
    return "$rc"
}

# must_run NAME DIR: run_block, and fail when the block fails.
must_run() {
    run_block "$@" || fail "README block '$1' failed (exit $?): see $W/$1.log"
}

# ---- c-icap helpers --------------------------------------------------------------

icap() { in_ns timeout 10 c-icap-client -i 127.0.0.1 -p 1344 "$@" 2>&1; }
answers() { [[ "$(icap -s "$1")" =~ ICAP/1.0\ 200 ]]; }
decision() {
    icap -s o365bypass -req "$1" -v | sed -n 's/^[[:space:]]*X-O365bypass-Decision: //p'
}
live_master() {
    local pid
    [[ -s $PIDFILE ]] || return 1
    pid=$(cat "$PIDFILE")
    _pid_alive "$pid" && echo "$pid"
}

# run_reload NAME DIR: run a block that ends with a reload and wait until
# c-icap has replaced its children (20 s at most): c-icap ignores another
# reconfigure while one is pending.
run_reload() {
    local old
    old=$(_child_pids "$MASTER")
    must_run "$@"
    await_children_gone "$old"
    wait_until 10 answers echo || true
}

# await_children_gone "PID...": wait (20 s at most) until none of these
# c-icap children lives.
none_alive() {
    local pid
    for pid in "$@"; do ! _pid_alive "$pid" || return 1; done
}
# shellcheck disable=SC2086 # $1: a list of PIDs
await_children_gone() { wait_until 20 none_alive $1; }

# reconfigure_settled: ask the master to reconfigure through its FIFO and
# wait until it has replaced the children it had (see run_reload).
reconfigure_settled() {
    local old
    old=$(_child_pids "$MASTER")
    cicap_ctl reconfigure "$CTL_DIR/c-icap.ctl" || return 1
    await_children_gone "$old"
}

master_gone() { ! _pid_alive "$MASTER"; }
ns_pids() { ip netns pids "$NS" 2>/dev/null | tr '\n' ' '; }

# After the init script's start: wait for the master Debian's PidFile names
# and for the echo service; record it as ours.  Sets MASTER.
await_master() {
    wait_until 20 live_master > /dev/null || fail "no c-icap master in $PIDFILE after start"
    MASTER=$(live_master)
    MASTERS+=("$MASTER")
    [[ "$(stat -L -c %i "/proc/$MASTER/ns/net")" == "$NS_INODE" ]] ||
        fail "c-icap $MASTER runs outside the test's namespace (was the start handed to systemd?)"
    wait_until 20 answers echo || fail "c-icap $MASTER does not answer OPTIONS for echo"
    _cicap_record_owned "$MASTER" "$W/owned-$MASTER"
    e2e_log "Debian's c-icap runs: master $MASTER (user $(ps -o user= -p "$MASTER"))"
}

# stop_ours: stop the current master by the PID in Debian's PidFile.
stop_ours() {
    local pid
    pid=$(live_master) || return 0
    [[ " ${MASTERS[*]} " == *" $pid "* ]] || fail "PidFile names $pid, which this test did not start"
    stop_master "$pid"
    wait_until 10 test -z "$(ns_pids)" || e2e_log "still in the namespace: $(ns_pids)"
}

# stats_now: the REQMOD counter and the table tag `o365bypass stats` shows
# (after a second: children hand their counts to c-icap once a second).
stats_now() {
    local out
    sleep 1.2
    out=$(in_ns o365bypass stats --server 127.0.0.1:1344 2>&1 || true)
    STATS_REQMOD=$(sed -n 's/^  REQMOD requests *\([0-9][0-9]*\)$/\1/p' <<< "$out")
    STATS_TAG=$(grep -o 'tag=[^;]*' <<< "$out" | head -n1)
}

lines() { wc -l < "$1" 2>/dev/null || echo 0; }
# wait_lines FILE N: until FILE has at least N lines (5 s at most).
wait_lines() { wait_until 5 test "$(lines "$1")" -ge "$2" || true; }

# ---- build -----------------------------------------------------------------------

copy_tree() {
    local dest=$1 ref
    mkdir -p "$dest"
    if git -C "$top_srcdir" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
        ref=$(git -C "$top_srcdir" stash create 2>/dev/null || true)
        git -C "$top_srcdir" archive --format=tar "${ref:-HEAD}" | tar -x -C "$dest"
    else
        tar -C "$top_srcdir" --exclude='./_build*' --exclude='./build*' --exclude=./.git \
            --exclude=./debian/tmp --exclude="./debian/$PKG" -cf - . | tar -x -C "$dest"
    fi
}

phase_build() {
    local deb out v1
    copy_tree "$W/v1/src"
    must_run build "$W/v1/src"
    check_contains "# PASS:" "$BLOCK_OUT" "the package build ran the unit tests"
    check_eq 0 "$(grep -c '^# FAIL: *[1-9]' <<< "$BLOCK_OUT" || true)" "no unit test failed in the build"
    V1=$(dpkg-parsechangelog -l "$W/v1/src/debian/changelog" -S Version)
    DEB1=$(ls "$W/v1/${PKG}_${V1}_"*.deb)
    CHANGES1=$(ls "$W/v1/"*"_${V1}_"*.changes)

    out=$(lintian "$CHANGES1" 2>&1 | grep -v 'running with root privileges' || true)
    echo "$out" > "$W/lintian.log"
    check_eq "" "$(grep -E '^[EW]: ' <<< "$out" || true)" "lintian (default level): no error, no warning"

    dpkg -c "$DEB1" > "$W/contents.log"
    local want
    for want in ./etc/c-icap/o365bypass.conf ./usr/bin/o365bypass \
        ./usr/share/o365bypass/endpoints-worldwide.json ./usr/share/man/man1/o365bypass.1.gz \
        ./usr/share/man/man8/o365bypass-acl.8.gz \
        "./usr/share/doc/$PKG/README.Debian" "./usr/share/doc/$PKG/copyright" \
        "./usr/share/doc/$PKG/changelog.gz" "./usr/share/doc/$PKG/README.md.gz" \
        "./usr/share/doc/$PKG/squid-o365bypass.conf" "./usr/share/doc/$PKG/squid-o365bypass-tls.conf" \
        "./usr/share/doc/$PKG/squid-o365bypass-intercept.conf" \
        "./usr/share/doc/$PKG/squid-o365bypass-acl.conf" "./usr/share/doc/$PKG/squid-heap.conf" \
        ./usr/lib/squid/o365bypass-acl; do
        check_eq 1 "$(awk -v f="$want" '$6 == f' "$W/contents.log" | wc -l)" "the package holds $want"
    done
    check_eq 1 "$(grep -c '/c_icap/srv_o365bypass\.so$' "$W/contents.log")" \
        "the module is in c-icap's modules dir"
    check_eq 0 "$(grep -c '\.la$' "$W/contents.log" || true)" "no .la in the package"
    check_eq "/etc/c-icap/o365bypass.conf" "$(dpkg-deb -I "$DEB1" conffiles)" "the conffile"
    check_contains "c-icap," "$(dpkg-deb -f "$DEB1" Depends)" "Depends names c-icap"
    check_contains "libicapapi5" "$(dpkg-deb -f "$DEB1" Depends)" "Depends from shlibs"
    check_eq "Service o365bypass srv_o365bypass.so" \
        "$(dpkg-deb --fsys-tarfile "$DEB1" | tar -xO ./etc/c-icap/o365bypass.conf | grep -v '^#' | grep -m1 .)" \
        "the conffile starts with its Service line"
    check_eq 1 "$(dpkg-deb --fsys-tarfile "$DEB1" | tar -xO ./etc/c-icap/o365bypass.conf |
        grep -c '^#     Include o365bypass\.conf$')" "the conffile names the Include line to add"

    # The upgrade: a higher version whose conffile changed too.
    copy_tree "$W/v2/src"
    V2="$V1+debtest1"
    {
        printf 'o365bypass (%s) unstable; urgency=medium\n\n' "$V2"
        printf '  * tests/deb/e2e-deb.sh: the upgrade it installs over %s.\n\n' "$V1"
        printf ' -- o365bypass authors <o365bypass@example.org>  %s\n\n' "$(date -R)"
        cat "$W/v1/src/debian/changelog"
    } > "$W/v2/src/debian/changelog"
    echo "# (e2e-deb: the default of version $V2)" >> "$W/v2/src/conf/o365bypass.conf.in"
    ( cd "$W/v2/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" timeout 900 \
        dpkg-buildpackage -us -uc -b ) > "$W/build-v2.log" 2>&1 || fail "building $V2 failed"
    DEB2=$(ls "$W/v2/${PKG}_${V2}_"*.deb)
}

# ---- install, enable, start, check ---------------------------------------------------

phase_install() {
    local owner want
    must_run install "$W/v1/src"
    check_eq "$V1" "$(dpkg-query -W -f='${Version}' "$PKG")" "installed version"
    owner=$(stat -c '%U:%G %a' /var/lib/o365bypass 2>/dev/null || echo missing)
    want="$(sed -n 's/^User[[:space:]]\+\([^[:space:]]*\).*/\1/p' "$CICAP_CONF" | tail -n1):"
    want+="$(sed -n 's/^Group[[:space:]]\+\([^[:space:]]*\).*/\1/p' "$CICAP_CONF" | tail -n1) 750"
    check_eq "$want" "$owner" "CacheDir is c-icap's (User/Group of c-icap.conf), mode 0750"
    o365bypass lookup outlook.office.com > /dev/null 2> "$W/warn-before-include.log" || true
    check_contains "$CICAP_CONF does not load the o365bypass service" "$(cat "$W/warn-before-include.log")" \
        "before the Include line the CLI says c-icap.conf does not load the module"
}

phase_start() {
    local out
    must_run enable /
    must_run logs /
    must_run start /
    await_master
    check_eq c-icap "$(ps -o user= -p "$MASTER" | tr -d ' ')" "c-icap's master runs as user c-icap"
    o365bypass lookup outlook.office.com > /dev/null 2> "$W/warn-after-include.log" || true
    check_eq "" "$(cat "$W/warn-after-include.log")" "with the Include line the CLI does not warn"

    must_run check /
    out=$BLOCK_OUT
    check_contains "X-O365bypass-Decision: bypass; set=1; category=Optimize" "$out" "check: Outlook bypassed"
    check_eq 1 "$(grep -c '^[[:space:]]*X-Next-Services:' <<< "$out" || true)" \
        "check: X-Next-Services on the bypass only"
    check_contains "X-O365bypass-Decision: inspect; reason=not-listed" "$out" "check: example.org inspected"
    check_contains "service  127.0.0.1:1344 says: bypass; set=1" "$out" "check: lookup --server asked the service"
    check_eq 0 "$(grep -c DIFFERENT <<< "$out" || true)" "check: the CLI agrees with the running service"
}

# ---- logs: rotate, reload ------------------------------------------------------------

phase_logs() {
    local before after tag1 tag2 n1 n2
    must_run logrotate /
    must_run rotate /
    check_eq yes "$([[ -e /var/log/c-icap/access.log.1 ]] && echo yes || echo no)" "rotate: access.log rotated"
    check_eq "c-icap adm 640" "$(stat -c '%U %G %a' /var/log/c-icap/access.log)" "rotate: the new access.log is c-icap's"
    check_eq "c-icap adm 640" "$(stat -c '%U %G %a' /var/log/c-icap/server.log)" "rotate: the new server.log is c-icap's"
    decision http://rotated.example.org/ > /dev/null
    wait_lines /var/log/c-icap/access.log 2
    check_eq 1 "$(grep -c 'REQMOD o365bypass' /var/log/c-icap/access.log || true)" \
        "rotate: a new request is logged in the new access.log"

    stats_now
    n1=$STATS_REQMOD tag1=$STATS_TAG
    before=$(wc -l < /var/log/c-icap/server.log)
    run_reload reload /
    wait_until 10 answers o365bypass || true
    wait_until 5 grep -q 'reconfigure' /var/log/c-icap/server.log || true
    after=$(wc -l < /var/log/c-icap/server.log)
    check_ge $(( before + 1 )) "$after" "reload: server.log still written after rotation (the reload is logged)"
    decision http://reloaded.example.org/ > /dev/null
    wait_until 5 test "$(grep -c 'REQMOD o365bypass' /var/log/c-icap/access.log)" -ge 2 || true
    check_eq 2 "$(grep -c 'REQMOD o365bypass' /var/log/c-icap/access.log || true)" \
        "reload: the next request is still logged"
    stats_now
    n2=$STATS_REQMOD tag2=$STATS_TAG
    check_eq "$tag1" "$tag2" "reload: the same table serves after it"
    check_eq yes "$( [[ -n "$n1" && -n "$n2" ]] && (( n2 < n1 )) && echo yes || echo "no ($n1 then $n2)")" \
        "reload: c-icap's counters start again"
    check_eq "$MASTER" "$(live_master)" "reload: the same master"
}

phase_squid() {
    local out
    must_run squid /
    out=$BLOCK_OUT
    check_contains "Processing: access_log daemon:/var/log/squid/access.log squid" "$out" \
        "squid: Squid's own access log is kept"
    check_contains "Processing: access_log daemon:/var/log/squid/access-o365.log o365" "$out" \
        "squid: the module's log is added"
    check_contains "Processing: adaptation_service_chain o365_then_dlp_req" "$out" "squid: conf.d file read"
    rm -f /etc/squid/conf.d/o365bypass.conf
}

# ---- upgrade -------------------------------------------------------------------------

phase_upgrade() {
    local conf=/etc/c-icap/o365bypass.conf before debian_before
    echo "o365bypass.NeverBypass outlook.office.com" >> "$conf"
    run_reload decisions-log /
    wait_until 10 answers o365bypass || true
    cp "$conf" "$W/edited.conf"
    run_reload upgrade "$W/v2/src"
    check_eq "$V2" "$(dpkg-query -W -f='${Version}' "$PKG")" "upgrade: the new version is installed"
    check_eq same "$(cmp -s "$conf" "$W/edited.conf" && echo same || echo changed)" \
        "upgrade: the edited conffile survives"
    check_contains "the default of version $V2" "$(cat "$conf.dpkg-dist" 2>/dev/null)" \
        "upgrade: the new default is beside it as .dpkg-dist"
    check_eq "$MASTER" "$(live_master)" "upgrade: the package did not restart c-icap"
    wait_until 10 answers o365bypass || true
    check_eq "inspect; reason=never-bypass" "$(decision http://outlook.office.com/ | cut -d';' -f1,2)" \
        "upgrade: the edit is in force after the reload"
    before=$(lines /var/log/c-icap/o365bypass.log)
    debian_before=$(lines /var/log/c-icap/access.log)
    in_ns o365bypass -q lookup --server 127.0.0.1:1344 www.example.org > /dev/null || true
    wait_lines /var/log/c-icap/o365bypass.log $(( before + 1 ))
    wait_lines /var/log/c-icap/access.log $(( debian_before + 1 ))
    sleep 0.5 # a second line would come now
    check_eq $(( before + 1 )) "$(lines /var/log/c-icap/o365bypass.log)" \
        "the module's log: one line for one request"
    check_contains "www.example.org:443 inspect not-listed" "$(tail -n 1 /var/log/c-icap/o365bypass.log)" \
        "the module's log: the decision"
    check_eq $(( debian_before + 1 )) "$(lines /var/log/c-icap/access.log)" \
        "Debian's access.log: the same request once"
    rm -f "$conf.dpkg-dist"
}

# ---- remove, purge -------------------------------------------------------------------

phase_remove() {
    run_reload remove "$W/v2/src"
    check_eq 0 "$(grep -c 'WARNING' <<< "$BLOCK_OUT" || true)" "remove as the README says: no warning"
    check_eq yes "$([[ -f /etc/c-icap/o365bypass.conf ]] && echo yes)" "remove keeps the conffile"
    check_eq no "$(compgen -G '/usr/lib/*/c_icap/srv_o365bypass.so' > /dev/null && echo yes || echo no)" \
        "remove deletes the module"
    check_eq "$MASTER" "$(live_master)" "remove: c-icap still runs (not stopped by the package)"
    check_eq yes "$(answers echo && echo yes || echo no)" "remove: c-icap still serves"
    stop_ours
    must_run start /
    await_master
    check_eq yes "$(answers echo && echo yes || echo no)" "after remove, Debian's c-icap starts"

    must_run purge "$W/v2/src"
    check_eq no "$([[ -e /etc/c-icap/o365bypass.conf ]] && echo yes || echo no)" "purge deletes the conffile"
    check_eq no "$([[ -e /var/lib/o365bypass ]] && echo yes || echo no)" "purge deletes CacheDir"
    check_eq "" "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -v 'not-installed' || true)" \
        "purge: the package is gone"
    check_eq yes "$(answers echo && echo yes || echo no)" "after purge, c-icap still serves"
}

# ---- the Include left behind ----------------------------------------------------------

phase_forgotten() {
    local out
    e2e_log "the Include line left behind"
    in_ns env APT_CONFIG="$W/apt.conf" DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB2" \
        > "$W/forgotten-install.log" 2>&1 || fail "dpkg -i $DEB2 failed"
    echo 'Include o365bypass.conf' >> "$CICAP_CONF"
    reconfigure_settled || e2e_log "the old children outlived the reload by 20 s"
    wait_until 15 answers o365bypass || fail "the module did not load after the reload"

    out=$(in_ns env DEBIAN_FRONTEND=noninteractive apt-get -c "$W/apt.conf" remove -y "$PKG" 2>&1) ||
        fail "apt-get remove failed: $out"
    echo "$out" > "$W/forgotten-remove.log"
    check_contains "WARNING: $CICAP_CONF line" "$out" "remove with the Include left: postrm warns"
    check_contains "srv_o365bypass.so, which is removed now" "$(tr -s ' \n' ' ' <<< "$out")" \
        "... naming the missing module"
    out=$(in_ns timeout 10 c-icap -N -D -f "$CICAP_CONF" 2>&1 || true)
    check_contains "Error loading service srv_o365bypass.so" "$out" "c-icap -N -D names the missing module"
    # c-icap drops a reconfigure that arrives while it is still replacing
    # children: ask again (at most three times) while the master lives.
    for _ in 1 2 3; do
        cicap_ctl reconfigure "$CTL_DIR/c-icap.ctl" || true
        wait_until 10 master_gone && break
        e2e_log "master $MASTER still runs 10 s after a reconfigure: asking again"
    done
    check_eq gone "$(_pid_alive "$MASTER" && echo running || echo gone)" \
        "a reload with the module gone makes the running c-icap exit"
    stop_master "$MASTER"
    run_block start / || true
    check_eq "" "$BLOCK_OUT" "the init script's start says nothing"
    sleep 2
    check_eq "" "$(ns_pids)" "... and no c-icap runs"

    out=$(in_ns env DEBIAN_FRONTEND=noninteractive apt-get -c "$W/apt.conf" purge -y "$PKG" 2>&1) ||
        fail "apt-get purge failed: $out"
    echo "$out" > "$W/forgotten-purge.log"
    check_contains "WARNING: $CICAP_CONF line" "$out" "purge with the Include left: postrm warns"
    check_contains "which purge removed" "$(tr -s ' \n' ' ' <<< "$out")" "... naming the removed file"
    out=$(in_ns timeout 10 c-icap -N -D -f "$CICAP_CONF" 2>&1 || true)
    check_contains "Can not open configuration file /etc/c-icap/o365bypass.conf" "$out" \
        "c-icap -N -D names the missing include file"

    sed -i '/^Include o365bypass\.conf$/d' "$CICAP_CONF"
    must_run start /
    await_master
    check_eq yes "$(answers echo && echo yes || echo no)" "with the line deleted, c-icap starts again"
    stop_ours
}

t0=$SECONDS
phase_build
phase_install
phase_start
phase_logs
phase_squid
phase_upgrade
phase_remove
phase_forgotten
check_eq "$(readme_block_names | tr '\n' ' ')" "$(printf '%s ' "${BLOCKS_RUN[@]}" | awk '{ for (i = 1; i <= NF; i++) if (!seen[$i]++) printf "%s ", $i }')" \
    "every marked README block ran, in README order"
e2e_log "e2e-deb: $(( SECONDS - t0 )) s"
check_done
