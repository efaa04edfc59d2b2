/* SPDX-License-Identifier: MIT */
/*
 * test_acl_follow.c - the Squid helper follows the service's table, keeps the
 * last good one.
 *
 * module/acl/follow.c with real files: a configuration and a CacheDir in a
 * mkdtemp(3) directory, table files written the way the c-icap master
 * writes them (o3b_store_save_current: temp file, fsync, rename), and time
 * passed in, so "at most once a second" is checked without sleeping.  The
 * helper's log (acl_log, main.c's in the binary) is captured here: one line
 * per table change or failure, none when nothing changed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acl.h"

#include "o365bypass/loader.h"
#include "o365bypass/store.h"
#include "unit.h"

#define FILE_A O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define FILE_B O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"

/* ---- the log, captured -------------------------------------------------------------- */

static char log_lines[16][1024];
static unsigned n_log;

void acl_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(log_lines[n_log % 16], sizeof log_lines[0], fmt, ap);
    va_end(ap);
    n_log++;
}

static const char *last_log(void)
{
    return n_log ? log_lines[(n_log - 1) % 16] : "";
}

/* ---- fixtures ------------------------------------------------------------------------- */

static char dir[64], conf[128], cache[128], current[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A fresh directory with a c-icap.conf naming SeedFile A and a CacheDir. */
static void setup(void)
{
    char text[1024];

    str_format(dir, sizeof dir, "/tmp/o3b-acl-follow.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    str_format(conf, sizeof conf, "%s/c-icap.conf", dir);
    str_format(cache, sizeof cache, "%s/cache", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(cache, 0750), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        o3b_store_path(&(struct o3b_store_params){cache, "Worldwide", FILE_A, 4 << 20},
                       O3B_STORE_CURRENT, current, sizeof current));
    str_format(text, sizeof text,
               "Service o365bypass srv_o365bypass.so\n"
               "o365bypass.SeedFile %s\no365bypass.CacheDir %s\n"
               "o365bypass.RefreshInterval 0\n",
               FILE_A, cache);
    write_text(conf, text);
    n_log = 0;
}

static void cleanup(void)
{
    char cmd[256];

    str_format(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Write CacheDir's current file as the master does, from a feed file. */
static void publish(const char *feed, const char *version)
{
    struct o3b_table_meta meta = {0};
    size_t len;
    o3b_err err;
    char *body = o3b_read_file(feed, 16u << 20, &len, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    snprintf(meta.instance, sizeof meta.instance, "Worldwide");
    snprintf(meta.version, sizeof meta.version, "%s", version);
    snprintf(meta.source, sizeof meta.source, "https://endpoints.office.com/endpoints/Worldwide");
    meta.fetched = 1763100000;
    CU_ASSERT_EQUAL_FATAL(
        o3b_store_save_current(&(struct o3b_store_params){cache, "Worldwide", FILE_A, 4 << 20},
                               body, len, &meta, &err),
        0);
    free(body);
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_follow_starts_with_the_seed_without_a_cache_file(void)
{
    struct acl_follow f;
    struct acl_state s;

    setup();
    acl_follow_start(&f, conf);
    acl_follow_state(&f, &s);
    CU_ASSERT_PTR_NOT_NULL(s.table);
    CU_ASSERT_PTR_NULL(s.unavailable);
    CU_ASSERT_TRUE(starts(s.table_tag, "seed-"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "in use (64 sets"));
    acl_follow_stop(&f);
    cleanup();
}

static void test_follow_starts_with_the_cache_file_when_there_is_one(void)
{
    struct acl_follow f;

    setup();
    publish(FILE_B, "2025112000");
    acl_follow_start(&f, conf);
    CU_ASSERT_TRUE(starts(f.tag, "2025112000-"));
    acl_follow_stop(&f);
    cleanup();
}

static void test_follow_swaps_to_a_new_cache_file_within_a_second(void)
{
    struct acl_follow f;
    unsigned logged;

    setup();
    acl_follow_start(&f, conf);
    acl_follow_tick(&f, 100); /* the first look: nothing there */
    logged = n_log;
    publish(FILE_B, "2025112000");
    acl_follow_tick(&f, 100); /* same second: not looked at yet */
    CU_ASSERT_TRUE(starts(f.tag, "seed-"));
    acl_follow_tick(&f, 101);
    CU_ASSERT_TRUE(starts(f.tag, "2025112000-"));
    CU_ASSERT_EQUAL(n_log, logged + 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "new CacheDir file: table seed-"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "-> 2025112000-"));
    acl_follow_tick(&f, 102); /* unchanged: no log line */
    CU_ASSERT_EQUAL(n_log, logged + 1);
    publish(FILE_A, "2025121500"); /* another version, other content */
    acl_follow_tick(&f, 103);
    CU_ASSERT_TRUE(starts(f.tag, "2025121500-"));
    CU_ASSERT_EQUAL(n_log, logged + 2);
    acl_follow_stop(&f);
    cleanup();
}

static void test_follow_keeps_the_last_good_table_when_the_new_file_is_corrupt(void)
{
    struct acl_follow f;
    char tmp[300], tag[40];
    unsigned logged;

    setup();
    publish(FILE_B, "2025112000");
    acl_follow_start(&f, conf);
    memcpy(tag, f.tag, sizeof tag);
    logged = n_log;
    str_format(tmp, sizeof tmp, "%s.tmp", current);
    write_text(tmp, "{\"o365bypass\": 1, \"endpoints\": [ {\"id\": ");
    CU_ASSERT_EQUAL_FATAL(rename(tmp, current), 0);
    acl_follow_tick(&f, 200);
    CU_ASSERT_STRING_EQUAL(f.tag, tag);
    CU_ASSERT_PTR_NOT_NULL(f.table);
    CU_ASSERT_EQUAL(n_log, logged + 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "refused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "the table in use stays"));
    acl_follow_tick(&f, 201); /* the same bad file: said once */
    CU_ASSERT_EQUAL(n_log, logged + 1);
    publish(FILE_A, "2025121500"); /* a good one again */
    acl_follow_tick(&f, 202);
    CU_ASSERT_TRUE(starts(f.tag, "2025121500-"));
    acl_follow_stop(&f);
    cleanup();
}

static void test_follow_keeps_the_table_when_the_cache_file_vanishes(void)
{
    struct acl_follow f;
    char tag[40];

    setup();
    publish(FILE_B, "2025112000");
    acl_follow_start(&f, conf);
    memcpy(tag, f.tag, sizeof tag);
    CU_ASSERT_EQUAL_FATAL(unlink(current), 0);
    acl_follow_tick(&f, 300);
    CU_ASSERT_STRING_EQUAL(f.tag, tag);
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "is gone"));
    acl_follow_stop(&f);
    cleanup();
}

/* The helper runs as Squid's user: 0 when an unreadable CacheDir file gives
   no table (ERR to everything) and a readable one then gives it back. */
static int unreadable_scenario(void)
{
    struct acl_follow f;
    struct acl_state s;
    int bad = 0;

    if (chmod(current, 0) != 0)
        return 10;
    acl_follow_start(&f, conf);
    acl_follow_state(&f, &s);
    bad +=
        s.table != NULL || s.unavailable == NULL || strcmp(s.unavailable, "cache-unreadable") != 0;
    bad += strstr(last_log(), "make CacheDir readable") == NULL;
    if (chmod(current, 0644) != 0) /* fixed: ctime changed */
        return 20;
    acl_follow_tick(&f, 400);
    acl_follow_state(&f, &s);
    bad += s.table == NULL || s.unavailable != NULL;
    acl_follow_stop(&f);
    return bad;
}

static void test_follow_answers_err_to_everything_when_the_cache_file_is_unreadable(void)
{
    int status = -1;
    pid_t pid;

    setup();
    publish(FILE_B, "2025112000");
    if (geteuid() != 0) {
        CU_ASSERT_EQUAL(unreadable_scenario(), 0);
        cleanup();
        return;
    }
    /* root reads anything: run it as nobody, who owns the files */
    CU_ASSERT_EQUAL_FATAL(chmod(dir, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(cache, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chown(current, 65534, 65534), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        _exit(setgid(65534) == 0 && setuid(65534) == 0 ? unreadable_scenario() : 30);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "(as nobody: status %d: %s) ", status, last_log());
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cleanup();
}

static void test_follow_a_bad_configuration_leaves_no_table(void)
{
    struct acl_follow f;
    struct acl_state s;

    setup();
    write_text(conf, "o365bypass.RefreshInterval 30\n"); /* too short: c-icap would refuse */
    acl_follow_start(&f, conf);
    acl_follow_state(&f, &s);
    CU_ASSERT_PTR_NULL(s.table);
    CU_ASSERT_STRING_EQUAL(s.unavailable, "config");
    CU_ASSERT_PTR_NOT_NULL(strstr(last_log(), "every lookup is answered ERR"));
    acl_follow_tick(&f, 500); /* nothing to follow */
    acl_follow_state(&f, &s);
    CU_ASSERT_PTR_NULL(s.table);
    acl_follow_stop(&f);
    str_format(conf, sizeof conf, "%s/none.conf", dir);
    acl_follow_start(&f, conf); /* unreadable configuration: the same */
    acl_follow_state(&f, &s);
    CU_ASSERT_STRING_EQUAL(s.unavailable, "config");
    acl_follow_stop(&f);
    cleanup();
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_follow_starts_with_the_seed_without_a_cache_file),
    O3B_TEST(test_follow_starts_with_the_cache_file_when_there_is_one),
    O3B_TEST(test_follow_swaps_to_a_new_cache_file_within_a_second),
    O3B_TEST(test_follow_keeps_the_last_good_table_when_the_new_file_is_corrupt),
    O3B_TEST(test_follow_keeps_the_table_when_the_cache_file_vanishes),
    O3B_TEST(test_follow_answers_err_to_everything_when_the_cache_file_is_unreadable),
    O3B_TEST(test_follow_a_bad_configuration_leaves_no_table),
};

O3B_UNIT_MAIN("acl_follow", tests)
