/* sx_font_main.c: the sx-font executable: fonts through FreeType in seccomp strict mode.
 * main() is the lifecycle of one extraction; the decoding itself is in font_core.c. */
#include "font_core.h"
#include "sx_answer.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_zygote.h"

static const char summary[] =
	"Reads a TrueType or OpenType font (TrueType or CFF outlines), a collection (--face N\n"
	"picks the face) or a WOFF/WOFF2 web font, through FreeType with only its sfnt,\n"
	"TrueType and CFF drivers. The format comes from the file's signature only. --probe\n"
	"returns names, face and glyph counts, units per em, outline type, fixed pitch and\n"
	"which of Latin, Greek, Cyrillic, CJK and Arabic the cmap covers. --thumbnail and\n"
	"--full return a preview: the family name and a pangram (or a sample of the script\n"
	"the font covers), antialiased, dark on transparent (--rgba) or on white (--rgb),\n"
	"fitted into the box (--full: 1024x512).";

/* Static: a result holds a 64 KiB metadata buffer. */
static struct sx_result result;

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;

	/* 0. Fork server (trusted): with --server FD this process becomes a zygote and only
	 * returns in a forked child, with that request's argv and fds; else nothing happens. */
	sx_zygote_serve_if_asked(&argc, &argv, sx_font_warm_up);

	/* 1. Setup (trusted): request, pool cap, input in memory, fds closed, rlimits. */
	enum sx_status status = sx_setup(argc, argv, "sx-font", summary, &req, &in, &result);

	/* 2. Warm-up (trusted): FreeType made with its modules, built-in fonts rendered. */
	sx_font_warm_up();
	struct sx_font_engine *engine = sx_font_warm_engine();
	if (!engine && status == SX_OK)
		status = sx_fail(&result, SX_ERR_INTERNAL, "cannot initialise FreeType");

	/* 3. The strict line: from here on only read, write and exit. */
	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	/* 4. Extract (untrusted): faces are opened from memory with the engine made above. */
	if (status == SX_OK)
		status = sx_font_extract_with(engine, &req, in.data, in.size, &result);

	/* 5. Answer, and leave through the raw exit syscall. */
	sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
}
