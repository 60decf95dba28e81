/* fuzz_webp.c: libFuzzer harness over sx-image, with the WebP dictionary (RIFF chunk names,
 * VP8/VP8L signatures): the production path, libwebp's demuxer and decoders. */
#include "image_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_image_family)
