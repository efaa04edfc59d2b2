/* glue_stats.c - (being written) */
typedef int o3b_placeholder_glue_stats;
