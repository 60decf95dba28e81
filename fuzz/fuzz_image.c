/* fuzz_image.c: libFuzzer harness over the whole sx-image family (sniffing included): the
 * production path. */
#include "image_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_image_family)
