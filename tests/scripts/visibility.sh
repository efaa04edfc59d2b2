#!/bin/bash
# SPDX-License-Identifier: MIT
# visibility.sh - the built module exports exactly one symbol, `service`, and
# carries none of the CLI-only export code.
#
# c-icap dlopen()s srv_o365bypass.so and looks up `service` (its
# ci_service_module_t); everything else (the core, the glue's helpers) must
# stay private, so two modules, or a module and c-icap itself, can never
# bind to each other's functions.  Reads `nm -D --defined-only` of the
# module make check built ($O3B_MODULE).  The exporters (libo3bexport: the
# verdict model, PAC, Squid) link into the CLI only: no o3b_export_* /
# o3b_squid_* / o3b_pac_* symbol, and not the PAC runtime's text.  Exit 77
# (skip) without nm.
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
export_syms=$(nm --defined-only "$module" | awk '{ print $NF }' |
    grep -E '^o3b_(export|squid|pac)_' || true)
if [[ -n "$export_syms" ]]; then
    echo "FAIL: $module contains the export code:"
    head -n 20 <<< "$export_syms"
    exit 1
fi
if grep -q 'FindProxyForURL' "$module"; then
    echo "FAIL: $module contains the PAC runtime"
    exit 1
fi
echo "PASS: $module exports only 'service' and holds no export code"
