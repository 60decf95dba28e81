/* fuzz_jpeg.c: libFuzzer harness over the JPEG decoder of sx-image, past the sniffer. */
#include "fuzz_request.h"
#include "image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(jpeg_extract, data, size);
	return 0;
}
