/* glue_table.c - (being written) */
typedef int o3b_placeholder_glue_table;
