/* glue.h - (being written) */
#ifndef O3B_GLUE_H
#define O3B_GLUE_H
#endif
