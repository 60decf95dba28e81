/* lua_core.c: the sx-lua decode core: Lua 5.4's own parser as a syntax checker.
 *
 * luaL_loadbufferx() in mode "t" only compiles: it builds the main function's prototype
 * and pushes it, and nothing here ever calls it. No standard library is opened, so the
 * state holds no io, os, load or require that anything could reach. Every byte Lua
 * allocates goes through count_alloc() with a cap, so a script that makes the parser
 * allocate without end ends as a LIMIT answer, not as a process the pool has starved.
 */
#include "lua_core.h"

#include <lauxlib.h>
#include <lua.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Messages then read "input:LINE: ...", as luac's read "FILE:LINE: ...". */
#define CHUNK_NAME "=input"
#define MESSAGE_PREFIX "input:"

/* Shared by the allocator and the panic handler; lives in extract_lua's frame. */
struct lua_job {
	size_t used;
	size_t cap;
	bool over_cap;	    /* an allocation was refused because of the cap */
	bool out_of_memory; /* malloc itself refused */
	jmp_buf panic;
};

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lua_job *job = ud;
	/* With ptr NULL, osize tells the kind of object being made, not a size. */
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		job->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > job->cap - job->used) {
		job->over_cap = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p) {
		/* Lua counts on a shrink never failing; the old block is still whole. */
		if (nsize <= old)
			return ptr;
		job->out_of_memory = true;
		return NULL;
	}
	job->used = job->used - old + nsize;
	return p;
}

/* Only an error outside a protected call reaches this; luaL_loadbufferx is protected, so
 * it is a bug. Never return into Lua (it would abort): unwind to sx_lua_extract. */
static int on_panic(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	longjmp(((struct lua_job *)ud)->panic, 1);
}

/* What luaL_loadfilex (and so luac and lua) skips before its parser: a UTF-8 BOM, then a
 * first line starting with '#' (a "#!" line). The newline ending that line is kept, so
 * lines are numbered as in the file. Returns the offset where the chunk starts; *first is
 * where its first character after the skipped line is (what Lua looks at to tell a
 * binary chunk). */
static size_t skip_prefix(const uint8_t *data, size_t size, size_t *first)
{
	size_t off = 0;
	if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
		off = 3;
	*first = off;
	if (off < size && data[off] == '#') {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		off = nl ? (size_t)(nl - data) : size;
		*first = nl ? off + 1 : size;
	}
	return off;
}

/* The line of an "input:LINE: ..." message; 0 when the message names no line. */
static int64_t message_line(const char *msg, size_t len)
{
	size_t i = sizeof MESSAGE_PREFIX - 1;
	if (len <= i || memcmp(msg, MESSAGE_PREFIX, i) != 0)
		return 0;
	int64_t line = 0;
	size_t first = i;
	for (; i < len && msg[i] >= '0' && msg[i] <= '9' && line < INT32_MAX; i++)
		line = line * 10 + (msg[i] - '0');
	return i > first && i < len && msg[i] == ':' ? line : 0;
}

static enum sx_status memory_failure(const struct lua_job *job, struct sx_result *result)
{
	if (job->over_cap)
		return sx_fail(result, SX_ERR_LIMIT, "parsing needs more than the cap of %zu bytes",
			       job->cap);
	return sx_fail(result, SX_ERR_NO_MEMORY, "out of memory while parsing");
}

static void describe_verdict(lua_State *L, int rc, struct sx_meta *m)
{
	sx_meta_add_cstring(m, "format", "lua");
	sx_meta_add_bool(m, "valid", rc == LUA_OK);
	if (rc == LUA_OK)
		return;
	/* A syntax error, or a limit the parser raises as a plain error ("C stack overflow"
	 * for deep nesting): either way the script is not valid Lua 5.4. */
	size_t len = 0;
	const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
	if (!msg) {
		msg = "unknown error";
		len = strlen(msg);
	}
	sx_meta_add_string(m, "message", msg, len);
	sx_meta_add_int(m, "line", message_line(msg, len));
}

static enum sx_status check_chunk(struct lua_job *job, const char *src, size_t len,
				  struct sx_result *result)
{
	lua_State *L = lua_newstate(count_alloc, job);
	if (!L)
		return memory_failure(job, result);
	lua_atpanic(L, on_panic);
	if (setjmp(job->panic))
		/* The state is in no shape to be closed: leave it (a bug path, never reached). */
		return sx_fail(result, SX_ERR_INTERNAL, "Lua panicked outside a protected call");

	/* Mode "t": text only; the parser itself would refuse a binary chunk too. */
	int rc = luaL_loadbufferx(L, src, len, CHUNK_NAME, "t");
	enum sx_status status = SX_OK;
	if (rc == LUA_ERRMEM)
		status = memory_failure(job, result);
	else
		describe_verdict(L, rc, &result->meta);
	lua_close(L);
	if (status == SX_OK)
		result->kind = SX_RESULT_META;
	return status;
}

static enum sx_status extract_lua(void *ctx, const struct sx_request *req, const uint8_t *data,
				  size_t size, struct sx_result *result)
{
	(void)ctx;
	if (req->mode != SX_MODE_PROBE)
		return sx_fail(result, SX_ERR_BAD_REQUEST,
			       "sx-lua answers --probe only: a script has no picture");
	if (size > SX_LUA_SOURCE_MAX_BYTES)
		return sx_fail(result, SX_ERR_LIMIT, "script of %zu bytes exceeds the cap of %zu",
			       size, SX_LUA_SOURCE_MAX_BYTES);
	size_t first;
	size_t start = skip_prefix(data, size, &first);
	/* ESC is how every Lua binary chunk begins (after a "#!" line too, for lua and luac);
	 * bytecode can crash the VM by design, and it is refused here before any Lua code
	 * looks at it. */
	if (first < size && data[first] == 0x1B)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "%s",
			       size - first >= 4 && memcmp(data + first, "\x1BLua", 4) == 0
				   ? "precompiled Lua bytecode is not accepted, only source"
				   : "binary chunk (starts with ESC) is not accepted, only source");

	struct lua_job job;
	memset(&job, 0, sizeof job);
	uint64_t pool = req->memory ? req->memory : SX_POOL_DEFAULT_BYTES;
	job.cap = pool / 4 * 3 < SX_LUA_MEMORY_MAX_BYTES ? (size_t)(pool / 4 * 3)
							 : SX_LUA_MEMORY_MAX_BYTES;
	return check_chunk(&job, (const char *)data + start, size - start, result);
}

static const char summary[] =
    "Checks a Lua 5.4 script with Lua's own parser (Debian's liblua5.4). The script is\n"
    "compiled in a state with no standard library and never run. --probe (the only\n"
    "mode) returns format \"lua\" and valid; for a script Lua rejects, also message\n"
    "(Lua's own, e.g. \"input:3: 'end' expected near <eof>\") and line (0 when Lua names\n"
    "none). Precompiled bytecode (ESC \"Lua\") is refused unread; the source length and\n"
    "the parser's memory are capped.";

#define SCRIPT(text)                                                                               \
	{                                                                                          \
		(const uint8_t *)(text), sizeof(text) - 1                                          \
	}

/* Lua's state set-up, lexer, parser, code generator, error formatting and the libc calls
 * they make (ctype tables, strtod, localeconv), each run once before the line. */
static const struct sx_sample scripts[] = {
    /* valid: locals with attributes, every kind of literal, closures, goto */
    SCRIPT(
	"#!/usr/bin/env lua\n"
	"local t <const> = {1, 2.5, 0x1p4, 1e10, 'a\\u{48}\\z\n  b', [==[long]==], x = -3 // 2}\n"
	"local function f(...) return select('#', ...) | 1 << 2 end\n"
	"for i = 1, #t do if t[i] ~= nil then goto done end end ::done::\n"
	"return f, t"),
    /* invalid: an error with a position and a token */
    SCRIPT("if x then\n  y = = 1\nend\n"),
    /* invalid: malformed number, unfinished string */
    SCRIPT("x = 3x4"),
    SCRIPT("x = \"abc"),
    /* refused before the parser */
    SCRIPT("\x1BLua"),
};
static const struct sx_sample_set warm_scripts = {scripts, sizeof scripts / sizeof scripts[0]};

const struct sx_family sx_lua_family = {
    .name = "sx-lua",
    .summary = summary,
    .extract = extract_lua,
    .samples = &warm_scripts,
    .modes = SX_FAMILY_MODE_BIT(SX_MODE_PROBE),
};
