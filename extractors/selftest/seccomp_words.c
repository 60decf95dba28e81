/* seccomp_words.c: sx-selftest's sandbox words (see seccomp_words.h). */
#include "seccomp_words.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "sx_answer.h"
#include "sx_meta.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_wire.h"

/* Static: a metadata buffer is 64 KiB. */
static struct sx_meta meta;

static int answer(const char *key, const char *value)
{
	sx_meta_init(&meta);
	sx_meta_add_cstring(&meta, "format", "selftest");
	sx_meta_add_cstring(&meta, key, value);
	return sx_answer_meta(SX_ANSWER_FD, &meta) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER;
}

#if defined(__x86_64__)

/* Steps over the 2-byte ud2 and returns: the return is the rt_sigreturn syscall. */
static void skip_ud2(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)info;
	((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP] += 2;
}

bool selftest_seccomp_prepare(const char *word)
{
	if (strcmp(word, "sigreturn") != 0)
		return true;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = skip_ud2;
	sa.sa_flags = SA_SIGINFO;
	return sigaction(SIGILL, &sa, NULL) == 0;
}

/* An i386 syscall through int 0x80 (ebx, ecx: the first two arguments). */
static long int80(long nr, long a, long b)
{
	long r = nr;
	__asm__ volatile("int $0x80" : "+a"(r) : "b"(a), "c"(b) : "memory");
	return r;
}

int selftest_seccomp_word(const char *word)
{
	if (!strcmp(word, "sandbox"))
		return answer("sandbox", sx_sandbox_name(sx_sandbox_in_force()));
	if (!strcmp(word, "int80")) {
		/* i386 15 is chmod; x86_64 15 is rt_sigreturn, allowed: a filter that forgot the
		 * arch check would let this through (NULL path: EFAULT, nothing changes). */
		int80(15, 0, 0);
		return answer("survived", "int80");
	}
	if (!strcmp(word, "int80-exit")) {
		/* i386 exit(42): strict mode's compat table allows it; the filter refuses i386. */
		int80(1, 42, 0);
		return answer("survived", "int80-exit");
	}
	if (!strcmp(word, "x32")) {
		/* x32 write, 3 bytes onto the answer fd: a filter that masked the x32 bit off
		 * would allow it (ENOSYS on kernels built without x32, bytes written with it). */
		syscall(0x40000000L | SYS_write, SX_ANSWER_FD, "x32", 3);
		return answer("survived", "x32");
	}
	if (!strcmp(word, "sigreturn")) {
		__asm__ volatile("ud2");
		return answer("sigreturn", "returned");
	}
	return -1;
}

#else

bool selftest_seccomp_prepare(const char *word)
{
	(void)word;
	return true;
}

int selftest_seccomp_word(const char *word)
{
	if (!strcmp(word, "sandbox"))
		return answer("sandbox", sx_sandbox_name(sx_sandbox_in_force()));
	return -1; /* the ABI words are x86_64's */
}

#endif
