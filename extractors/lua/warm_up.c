/* warm_up.c: checks built-in scripts through the core before the strict line, so Lua's
 * state set-up, lexer, parser, code generator, error formatting and the libc calls they
 * make (ctype tables, strtod, localeconv) have all run once while syscalls are allowed. */
#include <stdbool.h>
#include <string.h>

#include "lua_core.h"

void sx_lua_warm_up(void)
{
	/* A fork-server child inherits a warm zygote: the second call has nothing to do. */
	static bool warm;
	if (warm)
		return;
	warm = true;
	static struct sx_result result;
	static const char *const scripts[] = {
		/* valid: locals with attributes, every kind of literal, closures, goto */
		"#!/usr/bin/env lua\n"
		"local t <const> = {1, 2.5, 0x1p4, 1e10, 'a\\u{48}\\z\n  b', [==[long]==], x = -3 // 2}\n"
		"local function f(...) return select('#', ...) | 1 << 2 end\n"
		"for i = 1, #t do if t[i] ~= nil then goto done end end ::done::\n"
		"return f, t",
		/* invalid: an error with a position and a token */
		"if x then\n  y = = 1\nend\n",
		/* invalid: malformed number, unfinished string */
		"x = 3x4", "x = \"abc",
		/* refused before the parser */
		"\x1BLua",
	};
	struct sx_request req;
	memset(&req, 0, sizeof req);
	req.mode = SX_MODE_PROBE;
	req.channels = 4;
	req.max_pixels = SX_PIXELS_DEFAULT;
	req.max_input = SX_INPUT_DEFAULT_BYTES;
	req.memory = SX_POOL_DEFAULT_BYTES;
	for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		sx_result_init(&result);
		sx_lua_extract(&req, (const uint8_t *)scripts[i], strlen(scripts[i]), &result);
		sx_result_release(&result);
	}
}
