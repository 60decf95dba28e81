/* fuzz_video.c: libFuzzer harness over the sx-video decode core (libavformat over memory, H.264/HEVC). */
#include "fuzz_request.h"
#include "video_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(sx_video_extract, data, size);
	return 0;
}
