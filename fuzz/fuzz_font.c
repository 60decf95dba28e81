/* fuzz_font.c: libFuzzer harness over the sx-font family (FreeType probe and preview;
 * the face index comes from the request prefix): the production path. */
#include "font_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_font_family)
