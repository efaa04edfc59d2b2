// SPDX-License-Identifier: MIT
// pac_runtime.js - the fixed part of every PAC file `o365bypass export pac`
// writes: the decision, as in policy.h and index.h, over the data rows the
// exporter writes before it (O3B_PROXY, O3B_TENANTS, O3B_MX_LABELS,
// O3B_TENANT_NS, O3B_TENANT_FORMS, O3B_HOSTS, O3B_NETS4, O3B_NEVER_*,
// O3B_ALSO_*).  Embedded into the CLI at build time (Makefile.am: a C
// string); tests/scripts/export-agree.sh evaluates whole files with
// pacparser against `o365bypass lookup`.
//
// DIRECT exactly where the o365bypass ICAP service bypasses inspection, for the
// port of the URL (80 for http:, 443 for https: when the URL names none);
// PROXY everywhere else.  Rules, first that applies wins:
//   1. what the service refuses as malformed or never bypasses -> PROXY: schemes
//      other than http and https, user@host, bad ports, bad host names, IPv4
//      number forms, plain http to port 443 (a decrypted request);
//   2. IPv6 literals -> PROXY (not evaluated: browsers differ in how they pass them);
//   3. a NeverBypass match -> PROXY; an AlsoBypass match on port 80 or 443 -> DIRECT;
//   4. the table, port first: of the matching entries only those whose TCP ports
//      contain the port count; of those the most specific (an exact host beats
//      every pattern, a pattern with more literal characters beats one with fewer;
//      for an IPv4 address the longest prefix); then the highest rank (category:
//      2 Optimize, 1 Allow, 0 Default), then the first listed.  None -> PROXY;
//   5. the winner's verdict, the service's own answer for a host it wins
//      (BypassCategories, ServiceAreas, RequiredOnly; for IPv4 rows also tenant
//      pinning of the sets serving every tenant): 1 DIRECT, 0 PROXY; then for a
//      host row tenant pinning: a host under one of the tenant namespaces
//      (O3B_TENANT_NS) must name one of your tenants (TenantName) or mail
//      domains (TenantDomain): the host minus the pattern's literal leading
//      labels (last row column) minus the namespace.
// Patterns read like shExpMatch: '*' is any run of characters, dots included.

// The port of the URL, or -1 when the service refuses the URL or never bypasses it.
function o3bPortOf(url) {
  if (/[\x00-\x20\x7f]/.test(url)) return -1; // no request line holds these
  var m = /^([A-Za-z][A-Za-z0-9+.\-]*):\/\/([^\/?#]*)/.exec(url);
  if (m === null) return -1;
  var scheme = m[1].toLowerCase(), auth = m[2], port;
  if (scheme == "http") port = 80;
  else if (scheme == "https") port = 443;
  else return -1;
  if (auth.indexOf("@") >= 0) return -1;
  var colon = auth.lastIndexOf(":");
  if (colon > auth.lastIndexOf("]")) {
    var digits = auth.substring(colon + 1);
    if (!/^[1-9][0-9]{0,4}$/.test(digits) || parseInt(digits, 10) > 65535) return -1;
    port = parseInt(digits, 10);
  }
  if (scheme == "http" && port == 443) return -1; // decrypted: never bypassed
  return port;
}

function o3bIsIPv4(h) {
  return /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/.test(h);
}

// A well-formed host name (lowercase, no trailing dot) that is no IPv4 number form.
function o3bIsName(h) {
  if (h.length == 0 || h.length > 253) return false;
  var labels = h.split(".");
  for (var i = 0; i < labels.length; i++)
    if (!/^[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?$/.test(labels[i])) return false;
  return !/^([0-9]+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]);
}

function o3bPortIn(ranges, port) {
  for (var i = 0; i + 1 < ranges.length; i += 2)
    if (port >= ranges[i] && port <= ranges[i + 1]) return true;
  return false;
}

function o3bHostMatches(e, h) {
  return e[1] == 65535 ? h == e[0] : shExpMatch(h, e[0]);
}

function o3bNetMatches(e, ip) {
  return isInNet(ip, e[0], e[1]);
}

// The winning row, port first: of the rows listing the port, the most specific
// (index spec), then the highest rank, then the first.
function o3bBest(rows, h, port, matches, spec, rank, ports) {
  var best = null;
  for (var i = 0; i < rows.length; i++) {
    var e = rows[i];
    if (best !== null && e[spec] < best[spec]) continue;
    if (!o3bPortIn(e[ports], port) || !matches(e, h)) continue;
    if (best === null || e[spec] > best[spec] || e[rank] > best[rank]) best = e;
  }
  return best;
}

function o3bBestHost(rows, h, port) {
  return o3bBest(rows, h, port, o3bHostMatches, 1, 2, 3);
}

function o3bBestNet(rows, ip, port) {
  return o3bBest(rows, ip, port, o3bNetMatches, 2, 3, 4);
}

function o3bIn(list, s) {
  for (var i = 0; i < list.length; i++)
    if (list[i] == s) return true;
  return false;
}

// The longest tenant namespace h lies strictly under, or null.
function o3bNamespace(h) {
  var best = null;
  for (var i = 0; i < O3B_TENANT_NS.length; i++) {
    var n = O3B_TENANT_NS[i][0];
    if (h.length > n.length + 1 && h.substring(h.length - n.length - 1) == "." + n &&
        (best === null || n.length > best[0].length)) best = O3B_TENANT_NS[i];
  }
  return best;
}

function o3bPinned(kind) {
  return kind <= 2 ? O3B_TENANTS.length > 0 : O3B_TENANTS.length + O3B_MX_LABELS.length > 0;
}

// Tenant pinning of a winning host row (exact rows too: their last column is 0).
function o3bTenantAllows(e, h) {
  var ns = o3bNamespace(h);
  if (ns === null || !o3bPinned(ns[1])) return true;
  var end = h.length - ns[0].length - 1;
  if (end <= e[5]) return false;
  var part = h.substring(e[5], end);
  if (ns[1] >= 3) { // MX: your label; DNSSEC MX (4): your label, then one zone label
    var labels = part.split(".");
    return labels.length <= (ns[1] == 4 ? 2 : 1) && o3bIn(O3B_MX_LABELS, labels[0]);
  }
  var forms = O3B_TENANT_FORMS[ns[1]];
  for (var t = 0; t < O3B_TENANTS.length; t++)
    for (var f = 0; f < forms.length; f++)
      if (part == O3B_TENANTS[t] + forms[f]) return true;
  return false;
}

function FindProxyForURL(url, host) {
  var port = o3bPortOf(url);
  if (port < 0) return O3B_PROXY;
  var h = host.toLowerCase();
  if (h.indexOf(":") >= 0 || h.indexOf("[") >= 0) return O3B_PROXY; // IPv6
  if (o3bIsIPv4(h)) {
    if (o3bBestNet(O3B_NEVER_NETS4, h, port) !== null) return O3B_PROXY;
    if (o3bBestNet(O3B_ALSO_NETS4, h, port) !== null) return "DIRECT";
    var n = o3bBestNet(O3B_NETS4, h, port);
    return n !== null && n[5] == 1 ? "DIRECT" : O3B_PROXY;
  }
  if (h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);
  if (!o3bIsName(h)) return O3B_PROXY;
  if (o3bBestHost(O3B_NEVER_HOSTS, h, port) !== null) return O3B_PROXY;
  if (o3bBestHost(O3B_ALSO_HOSTS, h, port) !== null) return "DIRECT";
  var e = o3bBestHost(O3B_HOSTS, h, port);
  if (e === null || e[4] != 1 || !o3bTenantAllows(e, h)) return O3B_PROXY;
  return "DIRECT";
}
