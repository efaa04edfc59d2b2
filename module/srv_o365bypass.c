/* srv_o365bypass.c - (being written) */
typedef int o3b_placeholder_srv;
