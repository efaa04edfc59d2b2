#!/bin/bash
# SPDX-License-Identifier: MIT
# visibility.sh - the built module exports exactly one symbol: `service`.
#
# c-icap dlopen()s srv_o365bypass.so and looks up `service` (its
# ci_service_module_t); everything else (the core, the glue's helpers) must
# stay private, so two modules, or a module and c-icap itself, can never
# bind to each other's functions.  Reads `nm -D --defined-only` of the
# module make check built ($O3B_MODULE).  Exit 77 (skip) without nm.
set -euo pipefail

module=${O3B_MODULE:?set O3B_MODULE to the built srv_o365bypass.so}
command -v nm > /dev/null || { echo "SKIP: no nm"; exit 77; }
[[ -f "$module" ]] || { echo "FAIL: $module not built"; exit 1; }
symbols=$(nm -D --defined-only "$module" | awk '{ print $NF }' | sort)
if [[ "$symbols" != "service" ]]; then
    echo "FAIL: $module exports $(wc -l <<< "$symbols") symbols, not just 'service':"
    head -n 20 <<< "$symbols"
    exit 1
fi
echo "PASS: $module exports only 'service'"
