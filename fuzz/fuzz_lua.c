/* fuzz_lua.c: libFuzzer harness over the sx-lua family (Lua 5.4 syntax check): the production path.
 */
#include "lua_core.h"
#include "fuzz_request.h"

SX_FUZZ_HARNESS(sx_lua_family)
