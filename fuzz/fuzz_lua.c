/* fuzz_lua.c: libFuzzer harness over the sx-lua decode core (Lua 5.4 syntax check, never run). */
#include "fuzz_request.h"
#include "lua_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(sx_lua_extract, data, size);
	return 0;
}
