/* lua_limits.h: the caps sx-lua enforces on top of common/sx_limits.h.
 *
 * Phase: any. Compile-time constants only. Kept here until they move into sx_limits.h
 * (common/ is shared; its owner decides). Nothing read from the input can raise them.
 */
#ifndef LUA_LIMITS_H
#define LUA_LIMITS_H

#include <stddef.h>

/* Source bytes handed to the parser. A 5 MiB one-line script parses in well under a CPU
 * second; anything longer than this is refused before Lua sees it. */
#define SX_LUA_SOURCE_MAX_BYTES ((size_t)8 << 20)

/* Bytes the Lua state may hold while parsing. The parser of a 5 MiB script of numbers or
 * names peaks around 30-100 MiB. The cap is also held under three quarters of the
 * request's pool, so the cap (a clean LIMIT) is reached before the pool runs dry. */
#define SX_LUA_MEMORY_MAX_BYTES ((size_t)256 << 20)

#endif
