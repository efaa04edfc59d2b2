/* SPDX-License-Identifier: MIT */
/*
 * defaults.c - which configuration file the tools read, and how.
 *
 * One source of settings for the service and the tools: without -c, the
 * o365bypass command and the Squid helper (module/acl) both read c-icap's
 * own c-icap.conf, else the include file, with the module's reader and
 * c-icap's Include rule.  Both programs compile this file with the same
 * paths (Makefile.am: O3B_CONFIG_PATHS), so they cannot disagree.
 */
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_read_config(struct o3b_config *cfg, const char *path, struct o3b_config_scan *scan,
                    o3b_config_report_fn report)
{
    memset(scan, 0, sizeof *scan);
    scan->include_dir = O3B_CICAP_CONFDIR;
    return o3b_config_read_scan(cfg, path, scan, report, NULL);
}

const char *cli_default_config(void)
{
    if (access(O3B_CICAP_CONF, F_OK) == 0)
        return O3B_CICAP_CONF;
    if (access(O3B_DEFAULT_CONFIG, F_OK) == 0)
        return O3B_DEFAULT_CONFIG;
    return NULL;
}
