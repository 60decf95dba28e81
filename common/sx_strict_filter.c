/* sx_strict_filter.c: the BPF program behind the strict line when a seccomp filter is
 * already in force. Eleven instructions; each one is exercised by
 * tests/extractors/test_prefilter.py (see the comments). */
#include "sx_strict_filter.h"

#include <errno.h>
#include <stddef.h>

#if defined(__x86_64__)

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* The x32 ABI runs on the x86_64 syscall entry with AUDIT_ARCH_X86_64 and marks its numbers
 * with this bit (asm/unistd.h, where it is spelled __X32_SYSCALL_BIT). */
#define X32_SYSCALL_BIT 0x40000000u

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))

static const struct sock_filter program[] = {
    /* 0. A = the ABI the call came through. Must come first: the number means nothing
     *    without it (i386 15 is chmod, x86_64 15 is rt_sigreturn). */
    LOAD(arch),
    /* 1. x86_64 goes on to 3; anything else (i386 through int 0x80) falls to 2. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    /* 2. Kill. Stricter than strict mode, which lets i386 read/write/exit/sigreturn in. */
    RET(SECCOMP_RET_KILL_PROCESS),
    /* 3. A = the syscall number, x32 bit included. */
    LOAD(nr),
    /* 4. Any number with the x32 bit set goes to 9 (kill). The exact matches below would
     *    refuse those too; this says so on its own, whatever is added to the list. */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 4, 0),
    /* 5-8. The four calls strict mode allows go to 10 (allow); the rest fall to 9. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 4, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
    /* 9. Everything else, exit_group included: the whole process dies (SIGSYS). There is
     *    one thread, but were there more, KILL_THREAD would leave the others running. */
    RET(SECCOMP_RET_KILL_PROCESS),
    /* 10. */
    RET(SECCOMP_RET_ALLOW),
};

_Static_assert(sizeof program / sizeof program[0] == 11, "jump offsets assume 11 instructions");

int sx_strict_filter_install(void)
{
	struct sock_fprog prog = {
	    .len = (unsigned short)(sizeof program / sizeof program[0]),
	    .filter = (struct sock_filter *)program,
	};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
		return errno ? errno : EINVAL;
	return 0;
}

#else

int sx_strict_filter_install(void)
{
	return ENOSYS;
}

#endif
