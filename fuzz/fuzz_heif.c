/* fuzz_heif.c: libFuzzer harness over sx-heif's decode core (HEIC and AVIF: the box walk,
 * libheif, the libavcodec hevc and libdav1d plugins, the colour path): the production
 * path, in every mode. */
#include "heif_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_heif_family)
