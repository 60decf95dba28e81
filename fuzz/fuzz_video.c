/* fuzz_video.c: libFuzzer harness over the sx-video family (libavformat over memory,
 * H.264/HEVC): the production path. */
#include "video_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_video_family)
