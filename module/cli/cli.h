/* cli.h - (being written) */
#ifndef O3B_CLI_H
#define O3B_CLI_H
#endif
