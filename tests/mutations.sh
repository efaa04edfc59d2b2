#!/bin/bash
# SPDX-License-Identifier: MIT
# mutations.sh - does the test suite catch these one-line bugs?
#
# Copies the tracked files of the tree (as they are in the working tree)
# into a scratch directory -- never touching the real tree --, configures
# it once (gcc with AddressSanitizer + UndefinedBehaviorSanitizer, so an
# out-of-bounds write fails a test instead of passing by luck, no e2e) and
# builds it, then for each mutation below: applies it to the scratch copy,
# rebuilds incrementally, runs the unit tests and tests/scripts/config-doc.sh
# and, when none of those failed, tests/scripts/export-agree.sh; reports
# which tests caught it (or "the build"), and restores the file.  A mutation
# that no test catches SURVIVES and the script exits 1; a mutation that no
# longer applies (its line changed) is an error too (exit 2).
#
#   1 decide       NeverBypass skipped in o3b_decide()
#   2 export-req   RequiredOnly ignored by the export model
#   3 pac-rank     the PAC runtime's rank comparison relaxed (> to >=)
#   4 pac-never    the PAC runtime's NeverBypass rule deleted
#   5 counter      a counter mapping dropped (bypassed by service area)
#   6 default      a directive default changed in config.c only
#   7 tenant       the tenant "-files" form removed
#   8 overflow     the Host-lines overflow check removed
#
# usage: tests/mutations.sh [NAME...]   (default: all; O3B_MUTATION_DIR keeps
#                                        the scratch tree there, reused)
# A few minutes on 2 cores (one build, then small rebuilds).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${O3B_MUTATION_JOBS:-2}
t0=$SECONDS

git -C "$top" rev-parse --git-dir > /dev/null 2>&1 ||
    { echo "mutations: $top is not a git checkout (the scratch copy is of its tracked files)" >&2; exit 2; }
if [[ -n "${O3B_MUTATION_DIR:-}" ]]; then
    scratch=$O3B_MUTATION_DIR
    mkdir -p "$scratch"
else
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
fi
src="$scratch/src"
build="$scratch/build"

# name|file|sed expression (one line changed)|what it breaks
mutations=(
    'decide|module/decide.c|s/if (p->never.ix != NULL) {/if (false \&\& p->never.ix != NULL) {/|NeverBypass skipped in decide'
    'export-req|module/export_model.c|s/^    m->ip_view = \*m->policy;$/&\n    m->ip_view.required_only = false;/|RequiredOnly ignored in the export'
    'pac-rank|module/pac_runtime.js|s/e\[rank\] > best\[rank\]/e[rank] >= best[rank]/|the PAC rank comparison relaxed'
    'pac-never|module/pac_runtime.js|/o3bBestHost(O3B_NEVER_HOSTS, h, port) !== null/d|the PAC NeverBypass rule deleted'
    'counter|module/counters.c|s/add((enum o3b_counter)(O3B_C_AREA_FIRST + d->set->area), out, \&n);/;/|a counter mapping dropped'
    'default|module/config.c|s/\.default_value = "3600"/.default_value = "7200"/|a directive default changed in one place only'
    'tenant|module/tenant.c|s/{"", "-my", "-files", "-myfiles"}/{"", "-my", "-myfiles"}/|the tenant -files form removed'
    'overflow|module/target.c|s/if (n_hosts == O3B_TARGET_MAX_HOSTS)/if (false)/|the Host-overflow check removed'
)

log() { printf '%s\n' "$*" >&2; }

prepare() {
    log "mutations: copying the tracked tree to $src"
    mkdir -p "$src" "$build"
    # -p keeps the times, so a reused scratch tree rebuilds only what changed
    (cd "$top" && git ls-files -z | xargs -0 cp -p --parents -t "$src")
    [[ -x "$src/configure" ]] || (cd "$src" && ./autotools/bootstrap > /dev/null 2>&1)
    [[ -f "$build/Makefile" ]] ||
        (cd "$build" && "$src/configure" -q --enable-sanitizers --disable-e2e > /dev/null)
    log "mutations: building (once)"
    make -C "$build" -s -j"$jobs" all > "$scratch/build.log" 2>&1 || {
        tail -n 30 "$scratch/build.log"
        exit 2
    }
    units=$(make -C "$build" -s --eval='o3b-units: ; @echo $(UNIT_TESTS)' o3b-units)
    [[ -n "$units" ]] || { log "mutations: no UNIT_TESTS in the Makefile (CUnit missing?)"; exit 2; }
    make -C "$build" -s -j"$jobs" $units > "$scratch/build.log" 2>&1 || exit 2
}

# Rebuild what changed: the programs, then the unit tests (two runs: `all`
# recurses, so one make with both goals would compile an object twice).
rebuild() {
    make -C "$build" -s -j"$jobs" all > "$scratch/build.log" 2>&1 &&
        make -C "$build" -s -j"$jobs" $units >> "$scratch/build.log" 2>&1
}

# run_tests: the names of the tests that fail (empty: all pass).
run_tests() {
    local t caught=() env
    env=(env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1
        O3B_CLI="$build/o365bypass" top_srcdir="$src" top_builddir="$build"
        O3B_MODULE="$build/.libs/srv_o365bypass.so")
    for t in $units; do
        (cd "$build" && timeout 120 "${env[@]}" "./$t" > "$scratch/test.log" 2>&1) ||
            caught+=("${t##*/}")
    done
    timeout 120 "${env[@]}" bash "$src/tests/scripts/config-doc.sh" > "$scratch/test.log" 2>&1 ||
        caught+=(config-doc.sh)
    if [[ ${#caught[@]} == 0 ]]; then
        timeout 300 "${env[@]}" bash "$src/tests/scripts/export-agree.sh" > "$scratch/test.log" 2>&1 ||
            caught+=(export-agree.sh)
    fi
    echo "${caught[*]:-}"
}

prepare
log "mutations: the unmutated tree must pass"
baseline=$(run_tests)
[[ -z "$baseline" ]] || { log "mutations: the unmutated tree fails: $baseline"; exit 2; }

survived=0 results=()
for m in "${mutations[@]}"; do
    IFS='|' read -r name file expr what <<< "$m"
    if [[ $# -gt 0 && " $* " != *" $name "* ]]; then continue; fi
    cp "$src/$file" "$scratch/orig"
    sed -i -e "$expr" "$src/$file"
    if cmp -s "$src/$file" "$scratch/orig"; then
        log "mutations: $name no longer applies to $file (its line changed): update this script"
        exit 2
    fi
    t=$SECONDS
    if rebuild; then
        caught=$(run_tests)
    else
        caught="the build"
    fi
    cp "$scratch/orig" "$src/$file"
    touch "$src/$file"
    if [[ -z "$caught" ]]; then
        survived=$((survived + 1))
        results+=("SURVIVED  $name: $what ($file)")
    else
        results+=("caught    $name: $what ($file) -- by $caught [$((SECONDS - t)) s]")
    fi
    log "${results[-1]}"
done
rebuild || true

printf '\n'
printf '%s\n' "${results[@]}"
printf 'mutations: %d run, %d survived, %d s\n' "${#results[@]}" "$survived" "$((SECONDS - t0))"
[[ $survived == 0 ]]
