#!/bin/bash
# icapload-selftest.sh - runs icapload against a private c-icap + srv_echo.
#
# Starts c-icap (Debian package) on 127.0.0.1 and a free high port with a
# config in a temp dir, waits until c-icap-client gets an answer, then runs
# icapload once per request kind and a few preview/mix variants (1000 requests,
# 4 connections each), checks zero errors and that -x/-X saw every response,
# and prints the figures.  Also checks exit status 1 against a dead port and 2
# on a usage error.  c-icap is stopped by PID in a trap, after any client.
#
# usage: icapload-selftest.sh [path/to/icapload]   (or ICAPLOAD=...)
# Exit status: 0 all passed, 1 a check failed, 77 skipped (no c-icap).
set -u

ICAPLOAD=${1:-${ICAPLOAD:-./tests/bench/icapload}}
CICAP=${CICAP:-$(command -v c-icap || echo /usr/bin/c-icap)}
CICAP_CLIENT=${CICAP_CLIENT:-$(command -v c-icap-client || echo /usr/bin/c-icap-client)}
REQUESTS=${REQUESTS:-1000}
CONNECTIONS=${CONNECTIONS:-4}

if [ ! -x "$ICAPLOAD" ]; then
	echo "icapload-selftest: no icapload binary at $ICAPLOAD" >&2
	exit 1
fi
if [ ! -x "$CICAP" ] || [ ! -x "$CICAP_CLIENT" ]; then
	echo "icapload-selftest: c-icap or c-icap-client not installed: skipped" >&2
	exit 77
fi

WORK=$(mktemp -d /tmp/icapload-selftest.XXXXXX)
CICAP_PID=""
CLIENT_PID=""

# Stops a process we started: TERM, bounded wait (~tenths of a second), then KILL.
stop_pid() {
	local pid=$1 tenths=$2 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "icapload-selftest: PID $pid ignored TERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# shellcheck disable=SC2317  # invoked through the trap
cleanup() {
	stop_pid "$CLIENT_PID" 50
	CLIENT_PID=""
	stop_pid "$CICAP_PID" 200
	CICAP_PID=""
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port_in_use() {
	ss -Htln 2>/dev/null | awk '{print $4}' | grep -q ":$1\$"
}

pick_port() {
	local i port
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 25000))
		port_in_use "$port" || { echo "$port"; return 0; }
	done
	return 1
}

write_config() {
	cat > "$WORK/c-icap.conf" <<EOF
PidFile $WORK/c-icap.pid
CommandsSocket $WORK/c-icap.ctl
Port 127.0.0.1:$1
TmpDir $WORK
ServerLog $WORK/server.log
AccessLog $WORK/access.log
StartServers 1
MaxServers 1
ThreadsPerChild 10
Service echo srv_echo.so
EOF
}

# Starts c-icap on a free port; sets CICAP_PID and PORT.  Retries on a port race.
start_cicap() {
	local attempt i
	for ((attempt = 0; attempt < 3; attempt++)); do
		PORT=$(pick_port) || return 1
		write_config "$PORT"
		"$CICAP" -N -f "$WORK/c-icap.conf" > "$WORK/c-icap.out" 2>&1 &
		CICAP_PID=$!
		for ((i = 0; i < 100; i++)); do
			if "$CICAP_CLIENT" -i 127.0.0.1 -p "$PORT" -s echo > /dev/null 2>&1; then
				return 0
			fi
			kill -0 "$CICAP_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$CICAP_PID" 50
		CICAP_PID=""
	done
	echo "icapload-selftest: c-icap did not come up; its output:" >&2
	cat "$WORK/c-icap.out" "$WORK/server.log" >&2 2>/dev/null
	return 1
}

# Runs icapload in the background (so the trap can stop it) and waits.
run_client() {
	"$ICAPLOAD" "$@" > "$WORK/out" 2> "$WORK/err" &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	local rc=$?
	CLIENT_PID=""
	return $rc
}

# value KEY: the number after KEY= in the key=value line of the last run.
value() {
	head -n 1 "$WORK/out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

FAILED=0
fail() {
	echo "FAIL: $*"
	FAILED=$((FAILED + 1))
}

# check NAME ARGS...: a run that must have no error and see ISTag and
# "Server: C-ICAP" on every response.
check() {
	local name=$1 rc
	shift
	run_client -u "icap://127.0.0.1:$PORT/echo" -c "$CONNECTIONS" -n "$REQUESTS" -d 60 \
		-x ISTag -X 'Server: C-ICAP/' "$@"
	rc=$?
	printf '%-28s %s\n' "$name" "$(sed -n 2p "$WORK/out" | sed 's/^icapload: //')"
	[ $rc -eq 0 ] || { fail "$name: exit status $rc"; cat "$WORK/err"; return; }
	[ "$(value requests)" = "$REQUESTS" ] || fail "$name: requests=$(value requests)"
	[ "$(value errors)" = 0 ] || fail "$name: errors=$(value errors)"
	[ "$(value x_count)" = "$REQUESTS" ] || fail "$name: x_count=$(value x_count)"
	[ "$(value match_count)" = "$REQUESTS" ] || fail "$name: match_count=$(value match_count)"
}

start_cicap || exit 1
echo "c-icap PID $CICAP_PID on 127.0.0.1:$PORT (srv_echo); $REQUESTS requests x $CONNECTIONS connections per run"

check get            -k get
check post           -k post
check connect        -k connect
check respmod        -k respmod
check post-preview   -k post -p 1024
check post-ieof      -k post -p 8192
check post-nopreview -k post -p none
check post-64k       -k post -b 70000
check respmod-prev   -k respmod -p 100 -b 4096
check mix            -k get,post,connect,respmod \
	-H 'outlook.office365.com,www.example.org/index.html,login.microsoftonline.com/common/oauth2'

run_client -j -u "icap://127.0.0.1:$PORT/echo" -n 200 -k get
grep -q '^{"requests":200,"errors":0,' "$WORK/out" || fail "json: $(cat "$WORK/out")"

DEAD=$(pick_port)
run_client -u "icap://127.0.0.1:$DEAD/echo" -n 10 -c 1
rc=$?
if [ $rc -ne 1 ] || [ "$(value err_connect)" != 10 ]; then
	fail "dead port: exit $rc, $(head -n 1 "$WORK/out")"
fi

run_client -c 0
rc=$?
[ $rc -eq 2 ] || fail "usage error: exit $rc"

if [ $FAILED -ne 0 ]; then
	echo "icapload-selftest: $FAILED check(s) failed"
	exit 1
fi
echo "icapload-selftest: all checks passed"
exit 0
