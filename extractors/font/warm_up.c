/* warm_up.c: sets up the FreeType engine and runs built-in fonts (warm_fonts.c) through
 * every mode before the strict line, so every lazy initialisation of FreeType, zlib and
 * Brotli happens while syscalls are allowed (glibc's own, such as qsort's, are done by
 * sx_setup() for every extractor). */
#include <stdlib.h>
#include <string.h>

#include "font_core.h"
#include "warm_fonts.h"

/* The engine of the extractor process (and of a zygote's children). */
static struct sx_font_engine engine;
static bool engine_ready;

struct sx_font_engine *sx_font_warm_engine(void)
{
	return engine_ready ? &engine : NULL;
}

void sx_font_warm_up(void)
{
	/* A fork-server child inherits a warm zygote: the second call has nothing to do. */
	static bool warm;
	if (warm)
		return;
	warm = true;
	static struct sx_result result;
	if (!sx_font_engine_init(&engine))
		return;
	engine_ready = true;
	for (size_t i = 0; i < warm_font_count; i++) {
		for (int mode = SX_MODE_PROBE; mode <= SX_MODE_FULL; mode++) {
			struct sx_request req;
			memset(&req, 0, sizeof req);
			req.mode = (enum sx_mode)mode;
			req.box_w = 96;
			req.box_h = 40;
			req.channels = mode == SX_MODE_FULL ? 3 : 4;
			req.max_pixels = SX_PIXELS_DEFAULT;
			req.max_input = SX_INPUT_DEFAULT_BYTES;
			req.memory = SX_POOL_DEFAULT_BYTES;
			sx_result_init(&result);
			sx_font_extract_with(&engine, &req, warm_fonts[i].data, warm_fonts[i].size,
					     &result);
			sx_result_release(&result);
		}
	}
}
