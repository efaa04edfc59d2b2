#!/bin/bash
# e2e-cli-service.sh - one source of settings: the CLI reads what c-icap reads
# and asks the running service for its verdict.
#
# A real c-icap runs the built module with the o365bypass directives written
# straight into its c-icap.conf (no include file; TenantName contoso,
# RefreshInterval 0, a private CacheDir).  Then:
#   agree      `o365bypass -c c-icap.conf lookup` gives the verdict and reason
#              the running service gives (`lookup --server` compares both
#              X-O365bypass-Decision texts: no DIFFERENT, exit 0/1 as usual)
#              for a bypass, another tenant (reason=tenant), a name the table
#              does not list and a malformed URL; `show` prints the interval
#              and ServiceURL of c-icap.conf, not the defaults
#   differ     the same lookups with a local file lacking the TenantName: the
#              service still says reason=tenant, the CLI bypass: DIFFERENT,
#              exit 3 (and "same": false in --json)
#   unloaded   a c-icap.conf that loads no o365bypass service, and an include
#              file with directives but no Service line: the CLI warns that
#              c-icap does not use them; the running service's own c-icap.conf
#              gets no warning; check-config names a directive placed before
#              the Service line (c-icap refuses it)
#   errors     --server on a closed port: exit 2; --service without --server:
#              exit 2
# Needs root like the other e2e tests (lib.sh); skips (77) otherwise.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

e2e_init cli-service
[[ -x "$O3B_CLI" ]] || hard_error "CLI not built: $O3B_CLI"
[[ -f "$O3B_MODULE" ]] || hard_error "module not built: $O3B_MODULE"

SEED="$top_srcdir/module/data/endpoints-worldwide.json"

# run_cli OUT_VAR ERR_VAR RC_VAR ARGS...: stdout, stderr and exit code apart.
run_cli() {
    local -n _out=$1 _err=$2 _rc=$3
    shift 3
    _rc=0
    _out=$("$O3B_CLI" "$@" 2> "$E2E_DIR/cli.err") || _rc=$?
    _err=$(cat "$E2E_DIR/cli.err")
}

mkdir -p "$E2E_DIR/cache"
start_cicap "Service o365bypass $O3B_MODULE" \
    "o365bypass.SeedFile $SEED" \
    "o365bypass.CacheDir $E2E_DIR/cache" \
    "o365bypass.RefreshInterval 0" \
    "o365bypass.ServiceURL http://127.0.0.1:9/mirror" \
    "o365bypass.TenantName contoso"
CONF="$CICAP_DIR/c-icap.conf"
SERVER="127.0.0.1:$CICAP_PORT"

phase_agree() {
    local out err rc
    e2e_log "agree: directives only in c-icap.conf"
    run_cli out err rc -c "$CONF" lookup --server "$SERVER" fabrikam.sharepoint.com
    check_eq 1 "$rc" "another tenant: exit 1 (inspected, same answer as the service)"
    check_prefix "inspect  fabrikam.sharepoint.com" "$out" "another tenant: local verdict"
    check_contains "TenantName / TenantDomain: contoso" "$out" "another tenant: the local reason names the tenant"
    check_contains "service  $SERVER says: inspect; reason=tenant" "$out" \
        "another tenant: the running service says reason=tenant"
    check_eq 0 "$(grep -c DIFFERENT <<< "$out" || true)" "another tenant: no DIFFERENT"
    check_eq "" "$err" "c-icap.conf of the running service: no warning"

    run_cli out err rc -c "$CONF" lookup --server "$SERVER" contoso.sharepoint.com \
        http://outlook.office.com/
    check_eq 0 "$rc" "own tenant and Outlook: exit 0 (both bypassed by both)"
    check_eq 2 "$(grep -c "^  service  $SERVER says: bypass; .*(X-Next-Services: ends the chain)" \
        <<< "$out" || true)" "own tenant and Outlook: the service bypasses both and ends the chain"

    run_cli out err rc -c "$CONF" lookup --server "$SERVER" www.example.org \
        'http://outlook.office.com@evil.example/'
    check_eq 1 "$rc" "unlisted and malformed: exit 1"
    check_contains "says: inspect; reason=not-listed" "$out" "unlisted: the service's reason"
    check_contains "says: inspect; reason=malformed" "$out" "userinfo: the service's reason"
    check_eq 0 "$(grep -c DIFFERENT <<< "$out" || true)" "unlisted and malformed: no DIFFERENT"

    run_cli out err rc -c "$CONF" show
    check_eq 0 "$rc" "show with c-icap.conf exit"
    check_contains "http://127.0.0.1:9/mirror" "$out" "show: the ServiceURL of c-icap.conf"
    check_contains "never" "$out" "show: RefreshInterval 0 of c-icap.conf (never fetch)"
}

phase_differ() {
    local out err rc local_conf="$E2E_DIR/other.conf"
    e2e_log "differ: a local file without the service's TenantName"
    {
        echo "Service o365bypass srv_o365bypass.so"
        echo "o365bypass.SeedFile $SEED"
        echo "o365bypass.CacheDir $E2E_DIR/cache"
        echo "o365bypass.RefreshInterval 0"
    } > "$local_conf"
    run_cli out err rc -c "$local_conf" lookup --server "$SERVER" fabrikam.sharepoint.com
    check_eq 3 "$rc" "different policy: exit 3"
    check_prefix "bypass  fabrikam.sharepoint.com" "$out" "different policy: the local verdict"
    check_contains "says: inspect; reason=tenant" "$out" "different policy: the service's verdict"
    check_contains "  DIFFERENT  this configuration says: bypass; set=" "$out" \
        "different policy: DIFFERENT with the local decision"
    run_cli out err rc -q -c "$local_conf" lookup --server "$SERVER" fabrikam.sharepoint.com
    check_eq 3 "$rc" "different policy, -q: exit 3"
    check_contains "DIFFERENT" "$out" "different policy, -q: DIFFERENT still printed"
    run_cli out err rc -c "$local_conf" lookup --json --server "$SERVER" fabrikam.sharepoint.com \
        contoso.sharepoint.com
    check_eq 3 "$rc" "different policy, --json: exit 3"
    check_contains '"service":{"server":"'"$SERVER"'","header":"inspect; reason=tenant; set=31;' \
        "$out" "--json: the service's answer"
    check_contains '"next_services":false,"same":false}' "$out" "--json: another tenant is not the same"
    check_contains '"next_services":true,"same":true}' "$out" "--json: the own tenant is the same"
}

phase_unloaded() {
    local out err rc etc="$E2E_DIR/etc"
    e2e_log "unloaded: directives c-icap does not use"
    mkdir -p "$etc"
    printf 'Port 127.0.0.1:1344\nService echo srv_echo.so\n' > "$etc/c-icap.conf"
    printf 'o365bypass.SeedFile %s\no365bypass.RefreshInterval 0\no365bypass.TenantName contoso\n' \
        "$SEED" > "$etc/o365bypass.conf"
    run_cli out err rc -c "$etc/c-icap.conf" lookup outlook.office.com
    check_contains "$etc/c-icap.conf does not load the o365bypass service" "$err" \
        "a c-icap.conf without the service: warned"
    check_contains "add \`Include o365bypass.conf\`" "$err" "the warning says what to add"
    run_cli out err rc -c "$etc/o365bypass.conf" lookup outlook.office.com
    check_contains "c-icap does not use the 3 o365bypass directives" "$err" \
        "an include file without a Service line: warned"
    run_cli out err rc -q -c "$etc/o365bypass.conf" lookup outlook.office.com
    check_eq "" "$err" "-q: no warning"

    printf 'o365bypass.RefreshInterval 0\nService o365bypass srv_o365bypass.so\n' > "$etc/early.conf"
    run_cli out err rc check-config "$etc/early.conf"
    check_eq 1 "$rc" "check-config: a directive before the Service line exit"
    check_contains "$etc/early.conf:1: this o365bypass directive comes before" "$err" \
        "check-config names the early directive"
}

phase_errors() {
    local out err rc
    e2e_log "errors"
    run_cli out err rc -c "$CONF" lookup --server "127.0.0.1:$(free_port)" outlook.office.com
    check_eq 2 "$rc" "--server on a closed port: exit 2"
    check_contains "lookup --server" "$err" "--server on a closed port: the error names the option"
    run_cli out err rc -c "$CONF" lookup --service echo outlook.office.com
    check_eq 2 "$rc" "--service without --server: exit 2"
    run_cli out err rc -c "$CONF" lookup --server "$SERVER" --service echo outlook.office.com
    check_eq 2 "$rc" "--server asking a service that is not o365bypass: exit 2"
    check_contains "without an X-O365bypass-Decision header" "$err" \
        "another service: the missing header is named"
}

phase_agree
phase_differ
phase_unloaded
phase_errors
check_done
