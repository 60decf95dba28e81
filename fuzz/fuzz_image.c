/* fuzz_image.c: libFuzzer harness over the whole sx-image decode core (sniffing included). */
#include "fuzz_request.h"
#include "image_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(sx_image_extract, data, size);
	return 0;
}
