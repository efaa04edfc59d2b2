#!/bin/sh
# micro.sh - run the core's micro-benchmarks and print their tables.
#
# bench_lookup: host and address lookups against the real Worldwide table,
# next to a naive fnmatch scan and a one-probe hash floor (about 40 s);
# bench_table: parse + build time and the memory of one table (about 1 s).
# Both are built by `make check` (check_PROGRAMS); this script builds them
# if they are missing.  Goals are reported PASS/MISS by the benchmarks and
# never make this script fail: it fails only when a benchmark could not run.
#
# usage: tests/bench/micro.sh BUILDDIR SRCDIR [--quick]
#   BUILDDIR  the configured build directory (holds tests/bench/bench_*)
#   SRCDIR    the source tree (holds tests/data)
#   --quick   a smoke run: too short to judge the goals
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILDDIR SRCDIR [--quick]" >&2
	exit 2
fi
builddir=$1
srcdir=$2
quick=${3:-}
data="$srcdir/tests/data/worldwide-2025-11-14.json"

if [ ! -r "$data" ]; then
	echo "micro.sh: no table at $data" >&2
	exit 1
fi
for b in bench_lookup bench_table; do
	if [ ! -x "$builddir/tests/bench/$b" ]; then
		${MAKE:-make} -C "$builddir" "tests/bench/$b" >/dev/null
	fi
done

status=0
echo "==== bench_table ============================================================"
"$builddir/tests/bench/bench_table" $quick "$data" || status=1
echo
echo "==== bench_lookup ==========================================================="
"$builddir/tests/bench/bench_lookup" $quick "$data" || status=1
exit $status
