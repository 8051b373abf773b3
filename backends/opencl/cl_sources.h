/* The OpenCL C sources in cl/, embedded at build time (generated table). */
#ifndef GLIA_CL_SOURCES_H
#define GLIA_CL_SOURCES_H

typedef struct glia_cl_source {
    const char *name;   /* file stem: "elementwise" for cl/elementwise.cl */
    const char *text;
} glia_cl_source;

extern const glia_cl_source glia_cl_sources[];
extern const int glia_cl_source_count;

#endif
