/* sx_prefilter.c: test tool. Runs a command under a seccomp filter installed beforehand, the
 * way Docker, Podman, Kubernetes (RuntimeDefault), systemd (SystemCallFilter=) and Flatpak
 * start services, so the test suite can run the extractors and the Python client "inside a
 * container" on a machine without one. Never installed.
 *
 *   sx-prefilter [--no-nnp] MODE COMMAND [ARGS...]
 *
 * MODE:
 *   allow       one instruction, SECCOMP_RET_ALLOW: a filter is in force and changes nothing
 *   deny        like a runtime profile: EPERM for a few syscalls no extractor, Python, pytest
 *               or strace's tracee needs (keyrings, bpf, perf, userfaultfd, namespaces,
 *               mount, kexec, personality), and ENOSYS for clone3 as Docker's
 *               default profile answers it without CAP_SYS_ADMIN (glibc then falls back to
 *               clone); everything else allowed
 *   no-seccomp  EPERM for prctl(PR_SET_SECCOMP, ...) and seccomp(2): a profile that forbids
 *               adding a filter
 *   no-prctl    EPERM for every prctl and seccomp(2)
 * Only x86_64 calls are judged; other ABIs (i386 int 0x80, x32) pass untouched, as Docker's
 * profile lets them through too, so that what kills them in a test is the extractor's own
 * filter. Sets PR_SET_NO_NEW_PRIVS first (so it works unprivileged), then execvp(COMMAND).
 * With --no-nnp it installs the filter without it, as runc does for Docker (this needs
 * CAP_SYS_ADMIN): run COMMAND through setpriv to drop to an unprivileged user, and the
 * extractor has to set no_new_privs itself before it can add its own filter.
 * Exit status 2 and a message on stderr when it cannot.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 64

static struct sock_filter prog[MAX_INSNS];
static unsigned len;

static void emit(struct sock_filter insn)
{
	if (len < MAX_INSNS)
		prog[len++] = insn;
}

#define LOAD(field)                                                                                \
	((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,                                    \
				      offsetof(struct seccomp_data, field)))
#define RET(action) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (action)))
#define JEQ(k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (jt), (jf)))
#define ERRNO_RET(e) RET(SECCOMP_RET_ERRNO | ((e)&SECCOMP_RET_DATA))

/* Non-x86_64 calls: allowed (the first two instructions of every mode but allow). */
static void judge_x86_64_only(void)
{
	emit(LOAD(arch));
	emit(JEQ(AUDIT_ARCH_X86_64, 1, 0));
	emit(RET(SECCOMP_RET_ALLOW));
	emit(LOAD(nr));
}

/* `nr` -> errno `err`, else on to the next instruction. */
static void fail_with(unsigned nr, int err)
{
	emit(JEQ(nr, 0, 1));
	emit(ERRNO_RET(err));
}

static void deny(unsigned nr)
{
	fail_with(nr, EPERM);
}

static int build(const char *mode)
{
	static const unsigned runtime_denies[] = {
	    SYS_add_key,	 SYS_keyctl,	  SYS_request_key, SYS_bpf,
	    SYS_perf_event_open, SYS_userfaultfd, SYS_unshare,	   SYS_setns,
	    SYS_mount,		 SYS_umount2,	  SYS_kexec_load,  SYS_personality,
	};
	if (!strcmp(mode, "allow")) {
		emit(RET(SECCOMP_RET_ALLOW));
		return 0;
	}
	judge_x86_64_only();
	if (!strcmp(mode, "deny")) {
		for (size_t i = 0; i < sizeof runtime_denies / sizeof runtime_denies[0]; i++)
			deny(runtime_denies[i]);
		fail_with(SYS_clone3, ENOSYS);
	} else if (!strcmp(mode, "no-seccomp")) {
		deny(SYS_seccomp);
		/* prctl with option PR_SET_SECCOMP (the low word of args[0]) -> EPERM. */
		emit(JEQ(SYS_prctl, 0, 3));
		emit(LOAD(args[0]));
		emit(JEQ(PR_SET_SECCOMP, 0, 1));
		emit(ERRNO_RET(EPERM));
	} else if (!strcmp(mode, "no-prctl")) {
		deny(SYS_seccomp);
		deny(SYS_prctl);
	} else {
		return -1;
	}
	emit(RET(SECCOMP_RET_ALLOW));
	return 0;
}

int main(int argc, char **argv)
{
	int nnp = argc > 1 && !strcmp(argv[1], "--no-nnp") ? 0 : 1;
	argc -= !nnp;
	argv += !nnp;
	if (argc < 3 || build(argv[1]) != 0 || len >= MAX_INSNS) {
		fprintf(stderr, "usage: sx-prefilter [--no-nnp] allow|deny|no-seccomp|no-prctl "
				"COMMAND [ARGS...]\n");
		return 2;
	}
	struct sock_fprog fprog = {.len = (unsigned short)len, .filter = prog};
	if ((nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) {
		fprintf(stderr, "sx-prefilter: cannot install the filter: %s\n", strerror(errno));
		return 2;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "sx-prefilter: cannot run %s: %s\n", argv[2], strerror(errno));
	return 2;
}
