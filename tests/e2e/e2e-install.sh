#!/bin/bash
# e2e-install.sh - `make install` never overwrites or deletes an edited config.
#
# Installs the build tree with `make install DESTDIR=...` (no root needed,
# nothing outside the temp dir is touched) and checks:
#   first      every file in its place: the module (no .la), o365bypass.conf
#              and o365bypass.conf.default (this build's file, starting with
#              its Service line), the CLI, its man page, the Squid helper,
#              the bundled table, the docs, an empty CacheDir; the output
#              says how to hand CacheDir to c-icap's user
#   edited     an edited o365bypass.conf survives a second install (the
#              output says so); .default is this version's file again
#   unedited   a file still equal to the previous version's .default is
#              replaced by this version's
#   uninstall  the edited file stays, everything else is gone; an unedited
#              one is removed too, nothing is left
# Runs in the e2e list (skipped with --disable-e2e) but needs no root.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

: "${MAKE:=make}"
E2E_NAME=install
E2E_DIR=$(mktemp -d /tmp/o3b-e2e-install.XXXXXX)
trap 'rc=$?; if (( rc == 0 )); then rm -rf -- "$E2E_DIR"; else echo "logs kept in $E2E_DIR" >&2; fi; exit $rc' EXIT
D="$E2E_DIR/root"
[[ -f "$top_builddir/Makefile" ]] || hard_error "no Makefile in $top_builddir"

# make_in TARGET...: make in the build tree, as a fresh top-level make.
make_in() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE" -s -C "$top_builddir" "$@"
}

# var NAME: a Makefile variable of the build tree, expanded.
var() {
    printf 'o3b-print-%%:\n\t@echo $($*)\n' |
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE" -s -C "$top_builddir" -f Makefile -f - \
            "o3b-print-$1"
}

sysconfdir=$(var sysconfdir)
servicesdir=$(var servicesdir)
bindir=$(var bindir)
pkgdatadir=$(var pkgdatadir)
mandir=$(var mandir)
docdir=$(var docdir)
squidhelperdir=$(var squidhelperdir)
cachedir=$(var O3B_CACHE_DIR)
CONF="$D$sysconfdir/o365bypass.conf"
BUILT="$top_builddir/conf/o365bypass.conf"
same() { cmp -s "$1" "$2" && echo same || echo different; }

phase_first() {
    local out
    e2e_log "first install into $D"
    out=$(make_in install DESTDIR="$D" 2>&1) || { echo "$out" >&2; fail "make install failed"; }
    echo "$out" > "$E2E_DIR/install1.log"
    check_eq yes "$([[ -f $D$servicesdir/srv_o365bypass.so ]] && echo yes)" "the module in c-icap's services dir"
    check_eq no "$([[ -e $D$servicesdir/srv_o365bypass.la ]] && echo yes || echo no)" "no .la next to it"
    check_eq yes "$([[ -x $D$bindir/o365bypass ]] && echo yes)" "the CLI"
    check_eq yes "$([[ -f $D$mandir/man1/o365bypass.1 ]] && echo yes)" "its man page"
    check_eq yes "$([[ -f $D$pkgdatadir/endpoints-worldwide.json ]] && echo yes)" "the bundled table"
    check_eq yes "$([[ -f $D$docdir/squid-o365bypass.conf ]] && echo yes)" "the Squid example"
    check_eq yes "$([[ -x $D$squidhelperdir/o365bypass-acl ]] && echo yes)" "the Squid helper"
    check_eq yes "$([[ -f $D$docdir/squid-o365bypass-acl.conf ]] && echo yes)" "its Squid example"
    check_eq yes "$([[ -d $D$cachedir ]] && echo yes)" "CacheDir created"
    check_eq same "$(same "$CONF" "$BUILT")" "o365bypass.conf is this build's"
    check_eq same "$(same "$CONF.default" "$BUILT")" "o365bypass.conf.default is this build's"
    check_eq "Service o365bypass srv_o365bypass.so" "$(grep -v '^#' "$CONF" | grep -m1 .)" \
        "the include file starts with its Service line"
    check_eq 1 "$(grep -c "^#     $(var O3B_INCLUDE)\$" "$CONF")" \
        "the include file names the Include line configure printed"
    check_contains "Include " "$(var O3B_INCLUDE)" "configure chose an Include line"
    check_contains "chown" "$out" "the output says how to hand CacheDir to c-icap's user"
    check_contains "$cachedir" "$out" "... naming CacheDir"
}

phase_edited() {
    local out
    e2e_log "second install over an edited o365bypass.conf"
    echo "o365bypass.NeverBypass upload.contoso.sharepoint.com" >> "$CONF"
    cp "$CONF" "$E2E_DIR/edited.conf"
    out=$(make_in install DESTDIR="$D" 2>&1) || { echo "$out" >&2; fail "make install (2) failed"; }
    check_eq same "$(same "$CONF" "$E2E_DIR/edited.conf")" "the edited file survives a reinstall"
    check_contains "edited: kept" "$out" "the output says the edit was kept"
    check_eq same "$(same "$CONF.default" "$BUILT")" ".default is this version's again"
}

phase_unedited() {
    local out
    e2e_log "install over the previous version's unedited default"
    { cat "$BUILT"; echo "# the previous version"; } > "$CONF.default"
    cp "$CONF.default" "$CONF"
    out=$(make_in install DESTDIR="$D" 2>&1) || { echo "$out" >&2; fail "make install (3) failed"; }
    check_eq same "$(same "$CONF" "$BUILT")" "an unedited previous default is updated"
    check_contains "unedited: replaced" "$out" "the output says it was replaced"
}

phase_uninstall() {
    local out left
    e2e_log "uninstall with an edited o365bypass.conf"
    cp "$E2E_DIR/edited.conf" "$CONF"
    out=$(make_in uninstall DESTDIR="$D" 2>&1) || { echo "$out" >&2; fail "make uninstall failed"; }
    left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
    check_eq "./${sysconfdir#/}/o365bypass.conf " "$left" "uninstall leaves only the edited file"
    check_eq same "$(same "$CONF" "$E2E_DIR/edited.conf")" "... unchanged"
    check_contains "edited: kept" "$out" "the output says the edit was kept"
    check_eq no "$([[ -e $D$cachedir ]] && echo yes || echo no)" "the empty CacheDir is removed"

    e2e_log "install and uninstall without an edit"
    rm -f "$CONF"
    make_in install DESTDIR="$D" > /dev/null 2>&1 || fail "make install (4) failed"
    make_in uninstall DESTDIR="$D" > /dev/null 2>&1 || fail "make uninstall (2) failed"
    left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
    check_eq "" "$left" "an unedited install uninstalls completely"
}

phase_first
phase_edited
phase_unedited
phase_uninstall
check_done
