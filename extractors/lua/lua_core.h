/* lua_core.h: the decode core of sx-lua (Lua 5.4 syntax check) and its warm-up.
 *
 * sx_lua_extract() has the shared decode-core contract of sx_extract.h: it touches only
 * its arguments, makes no syscalls, allocates through malloc (the pool in the extractor)
 * and frees all of it, and may run after the strict line or in-process in tests and fuzz
 * harnesses. It compiles the input with Lua's own parser in a fresh state with no
 * standard library and never runs the result. It answers --probe only (a script has no
 * picture: other modes are SX_ERR_BAD_REQUEST).
 *
 * The answer for text Lua is always metadata, valid or not: `format` "lua", `valid`, and
 * for a script Lua rejects, `message` (Lua's own, chunk name "input") and `line`
 * (0 when Lua names none, as for "C stack overflow"). Errors are for what is not a
 * script to judge: empty input (SX_ERR_BAD_INPUT), precompiled bytecode
 * (SX_ERR_UNSUPPORTED, refused before the parser), a source or a parse over the caps of
 * lua_limits.h (SX_ERR_LIMIT), the pool running dry (SX_ERR_NO_MEMORY).
 *
 * sx_lua_warm_up() runs before the strict line: it checks built-in scripts through the
 * core so whatever Lua and libc initialise on first use is done. Only the first call does
 * work: a fork-server child, forked from a warm zygote, gets it free.
 */
#ifndef LUA_CORE_H
#define LUA_CORE_H

#include "sx_extract.h"

enum sx_status sx_lua_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			      struct sx_result *result);
void sx_lua_warm_up(void);

#endif
