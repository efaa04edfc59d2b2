/* index.c - (being written) */
typedef int o3b_placeholder_index;
