/* no_clock.c: sx-lua's own time(), so nothing reads a clock after the strict line.
 *
 * lua_newstate() seeds its string hash with luai_makeseed(), which in Lua 5.4 (and in
 * Debian's liblua5.4.so.0: lua_newstate calls time@plt) mixes time(NULL) with a few
 * addresses. The core makes a fresh state per script, after the line. glibc answers
 * time() from the vDSO here, but a clock read may fall back to a real syscall
 * (design.md, section 4), which strict mode kills. Defined in the executable, this time()
 * is the one liblua's call binds to (ELF interposition, as with the pool's malloc).
 * The seed keeps the addresses (ASLR); the time of day added nothing an attacker could
 * not guess. Only Lua calls time() in this program. */
#include <time.h>

time_t time(time_t *out)
{
	if (out)
		*out = 0;
	return 0;
}
