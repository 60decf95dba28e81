/* fuzz_font.c: libFuzzer harness over the sx-font decode core (FreeType probe and preview; the face index comes from the request prefix). */
#include "fuzz_request.h"
#include "font_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(sx_font_extract, data, size);
	return 0;
}
