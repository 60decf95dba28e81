/* fuzz_jpeg.c: libFuzzer harness over sx-image, seeded with JPEGs and the JPEG dictionary: the
 * production path. */
#include "image_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_image_family)
