#ifndef WEICHE_CLIBPQ_SHIM_H
#define WEICHE_CLIBPQ_SHIM_H
// libpq's public header. Its directory comes from pkg-config (`pkg-config --cflags libpq`),
// never from an absolute path here.
#include <libpq-fe.h>
#endif
