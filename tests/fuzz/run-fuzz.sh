#!/bin/sh
# SPDX-License-Identifier: MIT
# run-fuzz.sh - build the libFuzzer targets with clang and run them (`make fuzz`).
#
# The binaries are compiled here, straight from the core sources, with
# clang -fsanitize=fuzzer,address,undefined, so the result does not depend on
# how configure was run (compiler, --enable-sanitizers, -O level).  Each
# target fuzzes a writable copy of its committed corpus in the build
# directory; new inputs stay there unless FUZZ_MERGE=1 merges the ones that
# add coverage back into tests/fuzz/corpus/<target>.  A crash, a sanitizer
# report, a timeout or an out-of-memory makes the script print the saved
# input and exit 1.
#
# Environment (only top_srcdir is required; `make fuzz` passes it):
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_TARGETS    which targets, in order (default "target headers matcher loader")
#   FUZZ_JOBS       libFuzzer processes per target (default 1; the total
#                   executions of all of them are reported)
#   FUZZ_MERGE=1    merge coverage-increasing inputs into the source corpus
#   FUZZ_BUILD_DIR  binaries, working corpora, logs, crashes (default ./build-fuzz)
#   FUZZ_EXTRA      more libFuzzer flags, e.g. "-seed=1 -runs=100000"
#   CLANG           the compiler (default clang)
#   CJSON_CFLAGS, CJSON_LIBS   default: pkg-config libcjson
#   PSL_CFLAGS, PSL_LIBS       default: pkg-config libpsl
set -eu

: "${top_srcdir:?set top_srcdir to the source tree}"
B=${FUZZ_BUILD_DIR:-$PWD/build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"target headers matcher loader"}
JOBS=${FUZZ_JOBS:-1}
MERGE=${FUZZ_MERGE:-0}
CLANG=${CLANG:-clang}
CJSON_CFLAGS=${CJSON_CFLAGS:-$(pkg-config --cflags libcjson)}
CJSON_LIBS=${CJSON_LIBS:-$(pkg-config --libs libcjson)}
PSL_CFLAGS=${PSL_CFLAGS:-$(pkg-config --cflags libpsl)}
PSL_LIBS=${PSL_LIBS:-$(pkg-config --libs libpsl)}
FUZZ_DIR=$top_srcdir/tests/fuzz
DATA_DIR=$top_srcdir/tests/data
CORE="errors io host cidr ports target index table loader tenant policy decide tablediff trust"
# The core gets libFuzzer's coverage instrumentation; the harness files only
# the sanitizers, so their oracles neither steer the fuzzer nor slow it down.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer $SAN -D_GNU_SOURCE -I$top_srcdir/include"

die() {
    echo "run-fuzz: $*" >&2
    exit 2
}

# The longest input each target reads: the biggest feed file in the loader's
# corpus is ~27 KB; a request line past 8192 bytes is refused by parse_text.
max_len() {
    case $1 in
    loader) echo 32768 ;;
    target) echo 8448 ;;
    headers) echo 16384 ;;
    matcher) echo 1024 ;;
    *) die "unknown target '$1' (known: loader target headers matcher)" ;;
    esac
}

compile() {
    # $1 source, $2 object, $3 extra flags
    # shellcheck disable=SC2086
    "$CLANG" $CFLAGS $3 $CJSON_CFLAGS $PSL_CFLAGS "-DO3B_TEST_DATA=\"$DATA_DIR\"" -c "$1" -o "$2" ||
        die "cannot compile $1"
}

build() {
    command -v "$CLANG" >/dev/null 2>&1 || die "$CLANG not found (libFuzzer needs clang)"
    mkdir -p "$B/obj" "$B/bin"
    objs=""
    for m in $CORE; do
        compile "$top_srcdir/module/$m.c" "$B/obj/$m.o" -fsanitize=fuzzer-no-link
        objs="$objs $B/obj/$m.o"
    done
    for t in $TARGETS; do
        max_len "$t" >/dev/null
        compile "$FUZZ_DIR/fuzz_$t.c" "$B/obj/fuzz_$t.o" ""
        # shellcheck disable=SC2086
        "$CLANG" -fsanitize=fuzzer $SAN -o "$B/bin/fuzz_$t" "$B/obj/fuzz_$t.o" $objs $CJSON_LIBS $PSL_LIBS ||
            die "cannot link fuzz_$t"
    done
}

# Sum a libFuzzer final statistic over the logs given.
stat_sum() {
    name=$1
    shift
    cat "$@" 2>/dev/null | awk -v k="stat::$name:" '$1 == k { s += $2 } END { print s + 0 }'
}

run_one() {
    t=$1
    bin=$B/bin/fuzz_$t
    work=$B/corpus/$t
    stamp=$(date +%Y%m%d-%H%M%S)
    crashes=$B/crashes/$t-$stamp
    logs=$B/logs/$t-$stamp
    mkdir -p "$work" "$crashes" "$logs"
    cp "$FUZZ_DIR/corpus/$t"/* "$work"/
    parallel=""
    [ "$JOBS" -gt 1 ] && parallel="-jobs=$JOBS -workers=$JOBS"
    rc=0
    # shellcheck disable=SC2086
    (cd "$logs" && O3B_FUZZ_DATA=$DATA_DIR "$bin" -max_total_time="$SECONDS_EACH" \
        -max_len="$(max_len "$t")" -dict="$FUZZ_DIR/$t.dict" -timeout=10 \
        -artifact_prefix="$crashes/" -print_final_stats=1 $parallel \
        ${FUZZ_EXTRA:-} "$work" >"$logs/main.log" 2>&1) || rc=$?
    execs=$(stat_sum number_of_executed_units "$logs"/*.log)
    rate=$(stat_sum average_exec_per_sec "$logs"/*.log)
    echo "fuzz: $t: $execs executions in ${SECONDS_EACH}s x $JOBS job(s)," \
        "$rate exec/s, corpus $(find "$work" -type f | wc -l) inputs, logs in $logs"
    if [ "$rc" -ne 0 ] || [ -n "$(ls "$crashes")" ]; then
        echo "fuzz: $t: FAILED (libFuzzer exit status $rc)" >&2
        for f in "$crashes"/*; do
            [ -e "$f" ] || continue
            echo "fuzz: $t: crasher $f" >&2
            echo "fuzz: $t:   reproduce: O3B_FUZZ_DATA=$DATA_DIR $bin $f" >&2
        done
        grep -h -A25 -E '^==[0-9]+==ERROR|runtime error|invariant broken|deadly signal' \
            "$logs"/*.log | head -60 >&2 || true
        return 1
    fi
    if [ "$MERGE" = 1 ]; then
        "$bin" -merge=1 -max_len="$(max_len "$t")" "$FUZZ_DIR/corpus/$t" "$work" \
            >"$logs/merge.log" 2>&1 || die "merge of $t failed, see $logs/merge.log"
        echo "fuzz: $t: merged into $FUZZ_DIR/corpus/$t ($(find "$FUZZ_DIR/corpus/$t" -type f | wc -l) inputs)"
    fi
    return 0
}

build
status=0
for t in $TARGETS; do
    run_one "$t" || status=1
done
exit $status
