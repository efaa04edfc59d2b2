/* SPDX-License-Identifier: MIT */
/*
 * instance.c - the instance name table (see instance.h).
 */
#include <stddef.h>
#include <strings.h>

#include "o365bypass/instance.h"

const char *const o3b_instance_names[O3B_INSTANCE_COUNT + 1] = {
    [O3B_INSTANCE_WORLDWIDE] = "Worldwide",
    [O3B_INSTANCE_USGOVDOD] = "USGovDoD",
    [O3B_INSTANCE_USGOVGCCHIGH] = "USGovGCCHigh",
    [O3B_INSTANCE_CHINA] = "China",
    [O3B_INSTANCE_COUNT] = NULL,
};

const char *o3b_instance_name(enum o3b_instance i)
{
    return (unsigned)i < O3B_INSTANCE_COUNT ? o3b_instance_names[i] : "?";
}

int o3b_instance_parse(const char *s, size_t len, enum o3b_instance *out)
{
    for (int i = 0; i < O3B_INSTANCE_COUNT; i++) {
        const char *name = o3b_instance_names[i];
        size_t n = 0;

        while (name[n] != '\0')
            n++;
        if (n == len && strncasecmp(s, name, len) == 0) {
            *out = (enum o3b_instance)i;
            return 0;
        }
    }
    return -1;
}
