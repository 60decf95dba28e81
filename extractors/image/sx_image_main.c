/* sx_image_main.c: the sx-image executable: JPEG and PNG in seccomp strict mode.
 * main() is the lifecycle of one extraction; the decoding itself is in image_core.c. */
#include "image_core.h"
#include "sx_answer.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_zygote.h"

static const char summary[] =
	"Reads a JPEG (libjpeg-turbo) or PNG (libpng) image. The format comes from magic\n"
	"bytes only; anything else (GIF, SVG, MVG, EPS, random bytes...) is answered\n"
	"'unsupported' before any decoder sees it. --probe returns format, width, height,\n"
	"bit_depth, color_type, has_alpha, progressive and, for JPEG, EXIF orientation and\n"
	"arithmetic. Image answers are 8-bit RGBA (or RGB), EXIF orientation applied;\n"
	"thumbnails use libjpeg DCT scaling then area averaging.";

/* Static: a result holds a 64 KiB metadata buffer. */
static struct sx_result result;

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;

	/* 0. Fork server (trusted): with --server FD this process becomes a zygote and only
	 * returns in a forked child, with that request's argv and fds; else nothing happens. */
	sx_zygote_serve_if_asked(&argc, &argv, sx_image_warm_up);

	/* 1. Setup (trusted): request, pool cap, input in memory, fds closed, rlimits. */
	enum sx_status status = sx_setup(argc, argv, "sx-image", summary, &req, &in, &result);

	/* 2. Warm-up (trusted): every lazy init of libjpeg-turbo and libpng, done now. */
	sx_image_warm_up();

	/* 3. The strict line: from here on only read, write and exit. */
	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	/* 4. Extract (untrusted). */
	if (status == SX_OK)
		status = sx_image_extract(&req, in.data, in.size, &result);

	/* 5. Answer, and leave through the raw exit syscall. */
	sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
}
