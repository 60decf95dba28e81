/* lua_core.h: the sx-lua family (Lua 5.4 syntax check).
 *
 * sx_lua_family (sx_family.h) is the descriptor main(), the fork server and the fuzz
 * harness take. Its decode core has the shared contract of sx_extract.h: it touches only
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
 * sx_limits.h (SX_ERR_LIMIT), the pool running dry (SX_ERR_NO_MEMORY).
 *
 * Its warm-up checks built-in scripts through the core before the strict line, so
 * whatever Lua and libc initialise on first use is done.
 */
#ifndef LUA_CORE_H
#define LUA_CORE_H

#include "sx_family.h"

extern const struct sx_family sx_lua_family;

#endif
