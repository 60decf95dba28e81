/* fuzz_video.c: libFuzzer harness over the sx-video decode core (libavformat over memory, H.264/HEVC). */
#include "fuzz_request.h"
#include "video_core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The extractor's warm-up, as before its strict line: it also silences av_log, which the
 * decode core relies on (otherwise every corrupt input prints, slowing the fuzzer). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sx_video_warm_up();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(sx_video_extract, data, size);
	return 0;
}
