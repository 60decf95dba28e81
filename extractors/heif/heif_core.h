/* heif_core.h: the sx-heif family (HEIC and AVIF through libheif, decoders of
 * heif_codecs.h): its descriptor, for main(), the fork server and the fuzz harness. */
#ifndef HEIF_CORE_H
#define HEIF_CORE_H

#include "sx_family.h"

extern const struct sx_family sx_heif_family;

/* Built-in samples decoded by the warm-up (warm_heif.c, generated). */
extern const struct sx_sample_set warm_heif;

#endif
