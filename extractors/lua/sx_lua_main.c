/* sx_lua_main.c: the sx-lua executable: Lua 5.4 syntax check in seccomp strict mode.
 * main() is the lifecycle of one extraction; the checking itself is in lua_core.c. */
#include "lua_core.h"
#include "sx_answer.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_zygote.h"

static const char summary[] =
	"Checks a Lua 5.4 script with Lua's own parser (Debian's liblua5.4). The script is\n"
	"compiled in a state with no standard library and never run. --probe (the only\n"
	"mode) returns format \"lua\" and valid; for a script Lua rejects, also message\n"
	"(Lua's own, e.g. \"input:3: 'end' expected near <eof>\") and line (0 when Lua names\n"
	"none). Precompiled bytecode (ESC \"Lua\") is refused unread; the source length and\n"
	"the parser's memory are capped.";

/* Static: a result holds a 64 KiB metadata buffer. */
static struct sx_result result;

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;

	/* 0. Fork server (trusted): with --server FD this process becomes a zygote and only
	 * returns in a forked child, with that request's argv and fds; else nothing happens. */
	sx_zygote_serve_if_asked(&argc, &argv, sx_lua_warm_up);

	/* 1. Setup (trusted): request, pool cap, input in memory, fds closed, rlimits. */
	enum sx_status status = sx_setup(argc, argv, "sx-lua", summary, &req, &in, &result);

	/* 2. Warm-up (trusted): Lua's state, lexer and parser run once now. */
	sx_lua_warm_up();

	/* 3. The strict line: from here on only read, write and exit. */
	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	/* 4. Extract (untrusted). */
	if (status == SX_OK)
		status = sx_lua_extract(&req, in.data, in.size, &result);

	/* 5. Answer, and leave through the raw exit syscall. */
	sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
}
