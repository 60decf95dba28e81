/* fuzz_gif.c: libFuzzer harness over sx-image, with the GIF dictionary (signatures, block
 * introducers, NETSCAPE2.0): the production path, our block walk and giflib. */
#include "image_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_image_family)
