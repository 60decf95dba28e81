/* sx_heif_main.c: the sx-heif executable (HEIC, AVIF) in seccomp strict mode.
 * main() is the lifecycle of one extraction, the same in every extractor; what this
 * family reads is its descriptor, sx_heif_family (heif_core.c). */
#include "heif_core.h"
#include "sx_answer.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_zygote.h"

#define FAMILY sx_heif_family

/* Static: a result holds a 64 KiB metadata buffer. */
static struct sx_result result;

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;

	/* 0. Fork server (trusted): with --server FD this process becomes a zygote and only
	 * returns in a forked child, with that request's argv and fds; else nothing happens. */
	sx_zygote_serve_if_asked(&argc, &argv, &FAMILY);

	/* 1. Setup (trusted): request, pool cap, input in memory, fds closed, rlimits. */
	enum sx_status status =
	    sx_setup(argc, argv, FAMILY.name, FAMILY.summary, &req, &in, &result);

	/* 2. Warm-up (trusted): every lazy init of the family's libraries, done now (free in a
	 * fork-server child, whose zygote did it). */
	void *ctx = sx_family_warm_up_or_fail(&FAMILY, &req, &status, &result);

	/* 3. The strict line: from here on only read, write and exit. */
	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	/* 4. Extract (untrusted). */
	if (status == SX_OK)
		status = FAMILY.extract(ctx, &req, in.data, in.size, &result);

	/* 5. Answer, and leave through the raw exit syscall. */
	sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
}
