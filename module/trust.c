/* SPDX-License-Identifier: MIT */
/*
 * trust.c - outright refusals and the grow guard (see trust.h).
 *
 * Public suffixes come from libpsl's psl_latest(NULL), loaded once per
 * process (pthread_once) and kept for its lifetime; lookups on it are
 * read-only.  The grow guard first collects what the table in use bypasses
 * under the policy into sorted arrays (registrable domains, pattern texts,
 * set ids, prefixes; every string points into the table), then walks the
 * new table's bypassed sets and looks each entry up by binary search, so a
 * hostile 65536-entry table costs a few million comparisons, once per
 * refresh.  The Microsoft list is a sorted constant array.
 */
#include "o365bypass/trust.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"

/* ---- the Public Suffix List ------------------------------------------------ */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl; /* psl_latest(): never freed (the process keeps it) */
static char psl_where[400];

static void day_of(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, size, "unknown date");
}

/* Say which list psl_latest() took, by its own rule: the newest of the
   distribution file and the built-in data's source file, if newer than the
   built-in data; else the built-in data. */
static void describe_psl(void)
{
    const char *dist = psl_dist_filename(), *src = psl_builtin_filename();
    time_t builtin = psl_builtin_file_time(), newest = builtin;
    const char *file = NULL;
    struct stat st;
    char day[32], bday[32];

    if (dist && stat(dist, &st) == 0 && st.st_mtime > newest) {
        newest = st.st_mtime;
        file = dist;
    }
    if (src && stat(src, &st) == 0 && st.st_mtime > newest) {
        newest = st.st_mtime;
        file = src;
    }
    day_of(newest, day, sizeof day);
    day_of(builtin, bday, sizeof bday);
    if (file != NULL)
        snprintf(psl_where, sizeof psl_where,
                 "libpsl %s, %s of %s (newer than its built-in "
                 "list of %s)",
                 psl_get_version(), file, day, bday);
    else
        snprintf(psl_where, sizeof psl_where, "libpsl %s, its built-in list of %s",
                 psl_get_version(), bday);
}

static void load_psl(void)
{
    psl = psl_latest(NULL);
    if (psl == NULL)
        snprintf(psl_where, sizeof psl_where, "(none: libpsl %s found no list)", psl_get_version());
    else
        describe_psl();
}

static const psl_ctx_t *suffix_list(void)
{
    pthread_once(&psl_once, load_psl);
    return psl;
}

const char *o3b_psl_source(void)
{
    suffix_list();
    return psl_where;
}

bool o3b_public_suffix(const char *name)
{
    const psl_ctx_t *l = suffix_list();

    return l == NULL || psl_is_public_suffix(l, name) != 0;
}

const char *o3b_registrable_domain(const char *name)
{
    const psl_ctx_t *l = suffix_list();

    return l ? psl_registrable_domain(l, name) : NULL;
}

/* ---- Microsoft's domains ------------------------------------------------------- */

/*
 * The registrable domains of the Microsoft 365 endpoint sets in the real
 * tables of tests/data (Worldwide before and after 2025-11-14, USGovGCCHigh,
 * China operated by 21Vianet) and of Microsoft's endpoint documentation, as
 * libpsl computes them.  Left out on purpose: third parties in those sets
 * (certificate authorities: digicert.com, entrust.net, globalsign.*,
 * letsencrypt.org, verisign.*, ...; Akamai: akamaihd.net, edgesuite.net),
 * and Azure namespaces under which any Azure customer names hosts and which
 * the real tables list only in Default sets (azure.com, azure.net,
 * azureedge.net, azure-apim.net, trafficmanager.net, usgovcloudapi.net).
 * Kept although customers can name hosts under them, because Microsoft's
 * own Allow sets list them (a start with an empty table must not be held
 * back for them): windows.net (set 56) and China's chinacloudapi.cn,
 * chinacloudapp.cn, chinacloudsites.cn (set 7).  Sorted (strcmp), checked
 * by a unit test.
 */
// clang-format off
static const char *const microsoft_domains[] = {
    "aadrm.cn", "aadrm.com", "aadrm.us", "acompli.com", "acompli.net", "aka.ms",
    "aspnetcdn.com", "assets-yammer.com", "azure-mobile.cn", "azurerms.com", "bing.com",
    "bing.net", "cdnsvc.com", "chinacloud-mobile.cn", "chinacloudapi.cn", "chinacloudapp.cn",
    "chinacloudsites.cn", "cloud.microsoft", "cloudappsecurity.com", "cortana.ai",
    "getmicrosoftkey.com", "gfx.ms", "linkedin.com", "live.com", "live.net", "lync.cn",
    "lync.com", "microsoft.cn", "microsoft.com", "microsoft.us", "microsoft365.com",
    "microsoftazure.us", "microsoftazuread-sso.com", "microsoftonline-m-i.net.cn",
    "microsoftonline-m.net.cn", "microsoftonline-p.cn", "microsoftonline-p.com",
    "microsoftonline-p.net", "microsoftonline-p.net.cn", "microsoftonline.cn",
    "microsoftonline.com", "microsoftonline.us", "microsoftusercontent.com", "msauth.cn",
    "msauth.net", "msauthimages.cn", "msauthimages.net", "msauthimages.us", "msecnd.net",
    "msedge.net", "msftauth.cn", "msftauth.net", "msftauthimages.cn", "msftauthimages.net",
    "msftauthimages.us", "msftidentity.com", "msidentity.com", "msn.com", "msocdn.com",
    "msocdn.us", "msocsp.com", "mx.microsoft", "o365weve.com", "office.com", "office.net",
    "office365-net.cn", "office365-net.us", "office365.cn", "office365.com", "office365.us",
    "officewebapps.cn", "onedrive.com", "onedrive.us", "onenote.com", "onenote.net",
    "onestore.ms", "onmicrosoft.com", "onmicrosoft.us", "onmschina.cn", "outlook.cn",
    "outlook.com", "outlookmobile.com", "phonefactor.net", "powerapps.com",
    "powerautomate.com", "sfx.ms", "sharepoint-mil.us", "sharepoint.cn", "sharepoint.com",
    "sharepoint.us", "sharepointonline.com", "skype.com", "skypeassets.com",
    "sovcloud-static.cn", "sovcloud-usercontent.cn", "sovcloud.cn", "static.microsoft",
    "svc.ms", "sway-cdn.com", "sway-extensions.com", "sway.com", "usercontent.microsoft",
    "usgovcloud-mx.microsoft", "usgovcloud-static.microsoft",
    "usgovcloud-usercontent.microsoft", "usgovcloud.microsoft", "virtualearth.net",
    "visualstudio.com", "windows-ppe.net", "windows.com", "windows.net", "windows.us",
    "windowsazure.cn", "windowsazure.com", "yammer.com", "yammerusercontent.com",
};
// clang-format on

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char *const *v, size_t n, const char *s)
{
    return n > 0 && bsearch(&s, v, n, sizeof *v, cmp_str) != NULL;
}

const char *const *o3b_trust_microsoft_domains(size_t *n)
{
    *n = sizeof microsoft_domains / sizeof microsoft_domains[0];
    return microsoft_domains;
}

bool o3b_trust_microsoft_domain(const char *domain)
{
    return in_sorted(microsoft_domains, sizeof microsoft_domains / sizeof microsoft_domains[0],
                     domain);
}

/* ---- outright refusals ------------------------------------------------------ */

/* After the last '*' of a pattern: `*tail` without its leading '.', and
   `*whole` its whole labels ("*cdn.onenote.net": "cdn.onenote.net" and
   "onenote.net").  o3b_pattern_normalize guarantees two labels after it. */
static void pattern_tails(const char *pat, const char **tail, const char **whole)
{
    const char *t = strrchr(pat, '*') + 1;
    const char *dot;

    if (*t == '.') {
        *tail = *whole = t + 1;
        return;
    }
    dot = strchr(t, '.');
    *tail = t;
    *whole = dot ? dot + 1 : t;
}

int o3b_trust_check_pattern(const char *pat, o3b_err *err)
{
    const char *tail, *whole;

    if (strchr(pat, '*') == NULL) {
        /* An exact name covers one host, but no Microsoft endpoint is a
           public suffix ("github.io", "co.uk"): a feed naming one is not
           Microsoft's.  (Without a list there is nothing to compare.) */
        if (suffix_list() != NULL && o3b_public_suffix(pat)) {
            o3b_err_set(err,
                        "'%s' is refused: the name is itself a public suffix, which no "
                        "Microsoft endpoint is",
                        pat);
            return -1;
        }
        return 0;
    }
    if (suffix_list() == NULL) {
        o3b_err_set(err,
                    "'%s': no Public Suffix List is available (%s), so no pattern "
                    "can be checked",
                    pat, psl_where);
        return -1;
    }
    pattern_tails(pat, &tail, &whole);
    if (o3b_public_suffix(tail)) {
        o3b_err_set(err,
                    "'%s' is refused: its literal tail '%s' is a public suffix, so it "
                    "would cover every domain registered under it",
                    pat, tail);
        return -1;
    }
    if (o3b_public_suffix(whole)) {
        o3b_err_set(err,
                    "'%s' is refused: its '*' lies inside the registrable domain ('%s' "
                    "is a public suffix), so it would cover other owners' domains",
                    pat, whole);
        return -1;
    }
    return 0;
}

/* Is this (canonical) prefix shorter than the refusal bounds? */
static bool too_short(const char *cidr)
{
    struct o3b_cidr c;

    if (o3b_cidr_parse(cidr, strlen(cidr), &c, NULL, NULL) != 0)
        return true; /* cannot happen for a finished table: refuse anyway */
    return c.prefix < (c.family == O3B_AF_INET ? O3B_TRUST_MIN_PREFIX4 : O3B_TRUST_MIN_PREFIX6);
}

/* Does `t` hold exactly this (canonical) prefix in some set? */
static bool holds_prefix(const o3b_table *t, const char *cidr)
{
    for (size_t i = 0; t != NULL && i < o3b_table_set_count(t); i++) {
        const struct o3b_set *s = o3b_table_set(t, i);
        for (size_t k = 0; k < s->n_ips; k++)
            if (strcmp(s->ips[k], cidr) == 0)
                return true;
    }
    return false;
}

static int check_set(const struct o3b_set *s, const o3b_table *in_use, o3b_err *err)
{
    for (size_t k = 0; k < s->n_urls; k++)
        if (o3b_trust_check_pattern(s->urls[k], err) != 0)
            return -1;
    for (size_t k = 0; k < s->n_ips; k++)
        if (too_short(s->ips[k]) && !holds_prefix(in_use, s->ips[k])) {
            o3b_err_set(err,
                        "'%s' is refused: prefixes shorter than /%d (IPv4) or /%d "
                        "(IPv6) are too broad, unless the table in use holds exactly "
                        "that prefix",
                        s->ips[k], O3B_TRUST_MIN_PREFIX4, O3B_TRUST_MIN_PREFIX6);
            return -1;
        }
    return 0;
}

int o3b_trust_check_table(const o3b_table *t, const o3b_table *in_use, o3b_err *err)
{
    for (size_t i = 0; i < o3b_table_set_count(t); i++) {
        const struct o3b_set *s = o3b_table_set(t, i);
        if (check_set(s, in_use, err) != 0) {
            o3b_err_prefix(err, "set #%zu (id %u)", i + 1, s->id);
            return -1;
        }
    }
    return 0;
}

/* ---- the grow guard: what the table in use bypasses ------------------------------ */

struct strs {
    const char **v;
    size_t n, cap;
};

struct baseline {
    struct strs domains, urls; /* sorted, point into the table in use */
    uint32_t *ids;             /* set ids the policy bypasses, sorted */
    size_t n_ids;
    struct o3b_cidr *prefixes; /* sorted by family, length, address */
    size_t n_prefixes;
    bool empty; /* the table in use has no set */
};

static int strs_push(struct strs *s, const char *x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        void *v = realloc((void *)s->v, cap * sizeof *s->v);
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

static void strs_sort(struct strs *s)
{
    if (s->n > 1)
        qsort((void *)s->v, s->n, sizeof *s->v, cmp_str);
}

/* The domain an entry is judged by: the registrable domain of its whole
   literal labels (the host itself when that is a public suffix).  Points
   into `entry`. */
static const char *domain_of(const char *entry)
{
    const char *tail, *whole, *reg;

    if (strchr(entry, '*') == NULL)
        whole = entry;
    else
        pattern_tails(entry, &tail, &whole);
    reg = o3b_registrable_domain(whole);
    return reg ? reg : whole;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static int cmp_cidr(const void *a, const void *b)
{
    const struct o3b_cidr *x = a, *y = b;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

static size_t count_ips(const o3b_table *t)
{
    size_t n = 0;

    for (size_t i = 0; i < o3b_table_set_count(t); i++)
        n += o3b_table_set(t, i)->n_ips;
    return n;
}

static int collect_set(struct baseline *b, const struct o3b_set *s)
{
    b->ids[b->n_ids++] = s->id;
    for (size_t k = 0; k < s->n_urls; k++)
        if (strs_push(&b->urls, s->urls[k]) != 0 ||
            strs_push(&b->domains, domain_of(s->urls[k])) != 0)
            return -1;
    for (size_t k = 0; k < s->n_ips; k++)
        if (o3b_cidr_parse(s->ips[k], strlen(s->ips[k]), &b->prefixes[b->n_prefixes], NULL, NULL) ==
            0)
            b->n_prefixes++;
    return 0;
}

static void baseline_free(struct baseline *b)
{
    free((void *)b->domains.v);
    free((void *)b->urls.v);
    free(b->ids);
    free(b->prefixes);
    memset(b, 0, sizeof *b);
}

static int baseline_build(struct baseline *b, const o3b_table *t, const struct o3b_policy *p)
{
    size_t n_sets = o3b_table_set_count(t);

    memset(b, 0, sizeof *b);
    b->empty = n_sets == 0;
    b->ids = malloc((n_sets + 1) * sizeof *b->ids);
    b->prefixes = malloc((count_ips(t) + 1) * sizeof *b->prefixes);
    if (b->ids == NULL || b->prefixes == NULL)
        return -1;
    for (size_t i = 0; i < n_sets; i++) {
        const struct o3b_set *s = o3b_table_set(t, i);
        if (o3b_policy_allows_set(p, s) && collect_set(b, s) != 0)
            return -1;
    }
    strs_sort(&b->domains);
    strs_sort(&b->urls);
    qsort(b->ids, b->n_ids, sizeof *b->ids, cmp_u32);
    qsort(b->prefixes, b->n_prefixes, sizeof *b->prefixes, cmp_cidr);
    return 0;
}

/* Is `c` inside one of the bypassed prefixes (same family, not longer)? */
static bool covered(const struct baseline *b, const struct o3b_cidr *c)
{
    unsigned max = c->family == O3B_AF_INET ? 32 : 128;

    for (unsigned len = 0; len <= c->prefix && len <= max; len++) {
        struct o3b_cidr key = {.family = c->family, .prefix = (uint8_t)len};
        o3b_addr_mask(c->family, c->addr, len, key.addr);
        if (b->n_prefixes > 0 &&
            bsearch(&key, b->prefixes, b->n_prefixes, sizeof key, cmp_cidr) != NULL)
            return true;
    }
    return false;
}

/* ---- the grow guard: the new table ------------------------------------------------ */

static const char *const kind_names[] = {"domain", "prefix", "category"};

const char *o3b_grow_kind_name(enum o3b_grow_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

static void add_finding(struct o3b_grow_report *r, enum o3b_grow_kind kind, const struct o3b_set *s,
                        const char *entry, const char *detail)
{
    struct o3b_grow_finding *f;

    if (r->n++ >= O3B_GROW_SHOWN)
        return;
    f = &r->shown[r->n - 1];
    f->kind = kind;
    f->set_id = s->id;
    snprintf(f->entry, sizeof f->entry, "%.63s", entry);
    snprintf(f->detail, sizeof f->detail, "%.63s", detail);
}

/* Why the set is bypassed now and was not: "new set", "Default->Optimize". */
static void raise_detail(const struct o3b_policy *p, const struct o3b_set *old,
                         const struct o3b_set *s, char *buf, size_t size)
{
    enum o3b_reason why = old ? o3b_policy_set_reason(p, old) : O3B_R_TABLE;

    if (old == NULL)
        snprintf(buf, size, "new set");
    else if (why == O3B_R_CATEGORY)
        snprintf(buf, size, "%s->%s", o3b_category_name(old->category),
                 o3b_category_name(s->category));
    else if (why == O3B_R_AREA)
        snprintf(buf, size, "area %.20s->%.20s", old->area_name, s->area_name);
    else
        snprintf(buf, size, "optional->required");
}

static bool id_bypassed(const struct baseline *b, uint32_t id)
{
    return b->n_ids > 0 && bsearch(&id, b->ids, b->n_ids, sizeof id, cmp_u32) != NULL;
}

static void check_urls(const struct baseline *b, const o3b_table *in_use,
                       const struct o3b_policy *p, const struct o3b_set *s,
                       struct o3b_grow_report *r)
{
    bool raised = !b->empty && !id_bypassed(b, s->id);
    char detail[64] = "";

    if (raised)
        raise_detail(p, o3b_table_find_set(in_use, s->id), s, detail, sizeof detail);
    for (size_t k = 0; k < s->n_urls; k++) {
        const char *dom = domain_of(s->urls[k]);
        if (!in_sorted(b->domains.v, b->domains.n, dom) && !o3b_trust_microsoft_domain(dom))
            add_finding(r, O3B_GROW_DOMAIN, s, s->urls[k], dom);
        else if (raised && !in_sorted(b->urls.v, b->urls.n, s->urls[k]))
            add_finding(r, O3B_GROW_CATEGORY, s, s->urls[k], detail);
    }
}

static void check_ips(const struct baseline *b, const struct o3b_set *s, struct o3b_grow_report *r)
{
    for (size_t k = 0; k < s->n_ips; k++) {
        struct o3b_cidr c;
        if (o3b_cidr_parse(s->ips[k], strlen(s->ips[k]), &c, NULL, NULL) != 0 || !covered(b, &c))
            add_finding(r, O3B_GROW_PREFIX, s, s->ips[k], "outside the bypassed prefixes");
    }
}

long o3b_grow_guard(const o3b_table *in_use, const o3b_table *fresh, const struct o3b_policy *p,
                    struct o3b_grow_report *r)
{
    struct o3b_grow_report scratch;
    struct baseline b;

    if (r == NULL)
        r = &scratch;
    memset(r, 0, sizeof *r);
    if (in_use == NULL)
        return 0;
    if (baseline_build(&b, in_use, p) != 0) {
        baseline_free(&b);
        return -1;
    }
    for (size_t i = 0; i < o3b_table_set_count(fresh); i++) {
        const struct o3b_set *s = o3b_table_set(fresh, i);
        if (!o3b_policy_allows_set(p, s))
            continue;
        check_urls(&b, in_use, p, s, r);
        if (!b.empty)
            check_ips(&b, s, r);
    }
    baseline_free(&b);
    return (long)r->n;
}

char *o3b_grow_report_format(const struct o3b_grow_report *r, char *buf, size_t size)
{
    size_t shown = r->n < O3B_GROW_SHOWN ? r->n : O3B_GROW_SHOWN;
    int used = snprintf(buf, size, "%zu finding(s)", r->n);

    for (size_t i = 0; i < shown && used >= 0 && (size_t)used < size; i++) {
        const struct o3b_grow_finding *f = &r->shown[i];
        used += snprintf(buf + used, size - (size_t)used, "%s set %u %s '%s' (%s)", i ? ";" : ":",
                         f->set_id, o3b_grow_kind_name(f->kind), f->entry, f->detail);
    }
    if (r->n > shown && used >= 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, "; and %zu more", r->n - shown);
    return buf;
}

bool o3b_grow_guard_holds(const o3b_table *in_use, const o3b_table *fresh,
                          const struct o3b_policy *p, o3b_err *err)
{
    struct o3b_grow_report r;
    char line[O3B_ERR_MAX];
    long n = o3b_grow_guard(in_use, fresh, p, &r);

    if (n == 0)
        return false;
    if (n < 0)
        o3b_err_set(err, "grow guard: out of memory while comparing the tables: held back; "
                         "accept it with o365bypass_accept");
    else
        o3b_err_set(err,
                    "grow guard: held back (accept it with o365bypass_accept), under "
                    "this policy it bypasses more than the table in use: %s",
                    o3b_grow_report_format(&r, line, sizeof line));
    return true;
}
