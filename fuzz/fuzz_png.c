/* fuzz_png.c: libFuzzer harness over sx-image, seeded with PNGs and the PNG dictionary: the
 * production path. */
#include "image_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_image_family)
