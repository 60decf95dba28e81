/* sx_zygote.c: the fork server. Trusted code only: its one input is the client's socket,
 * and the untrusted input fd is handed to the child unread.
 *
 * No seccomp filter confines the zygote itself, on purpose: a filter is inherited by every
 * child across fork, and the kernel refuses SECCOMP_MODE_STRICT (EINVAL) to a task that
 * already has a filter, so a filtered zygote could not have strictly sandboxed children.
 * Instead the zygote holds nothing but the socket, has an empty environment (the client's
 * doing), no core dumps, no new privileges, is not dumpable, and never parses input.
 * Under a container's filter (children then take the filter path at their line) it still
 * gets no allow-list of its own: inherited, it would have to allow every child's setup and
 * warm-up syscalls, the brittle list this project avoids (README, "Containers and services").
 */
#include "sx_zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx_bytes.h"
#include "sx_family.h"
#include "sx_hygiene.h"
#include "sx_libc_warm.h"
#include "sx_wire.h"

/* Room for more fds than a request may carry, so that extra ones are seen and closed. */
#define MAX_FDS 8

struct message {
	uint8_t buf[SX_ZYGOTE_REQUEST_HEADER_BYTES + SX_ZYGOTE_MAX_STRINGS_BYTES + 1];
	size_t len;
	int fds[MAX_FDS];
	unsigned nfds;
	bool truncated; /* data or control did not fit, or a foreign control message */
};

/* Static: a forked child's argv points into its copy of `request`. */
static struct message request;
static char *child_argv[SX_ZYGOTE_MAX_ARGS + 2];

static noreturn void cannot_start(const char *why)
{
	fprintf(stderr, "sx zygote: %s\n", why);
	exit(SX_ZYGOTE_EXIT_CANNOT_START);
}

/* One fixed-size reply. False when the client is gone. */
static bool reply(int sock, unsigned type, pid_t pid, uint32_t status, int err,
		  const struct rusage *ru)
{
	uint8_t r[SX_ZYGOTE_REPLY_BYTES] = {0};
	memcpy(r, SX_ZYGOTE_REPLY_MAGIC, 4);
	sx_put_le16(r + 4, SX_ZYGOTE_VERSION);
	sx_put_le16(r + 6, (uint16_t)type);
	sx_put_le32(r + 8, (uint32_t)pid);
	sx_put_le32(r + 12, status);
	sx_put_le32(r + 16, (uint32_t)err);
	if (ru) {
		uint64_t usec = (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000u +
				(uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
		sx_put_le64(r + 24, usec);
		sx_put_le64(r + 32, (uint64_t)ru->ru_maxrss);
	}
	for (;;) {
		/* MSG_NOSIGNAL: a vanished client must not kill us with SIGPIPE mid-loop. */
		ssize_t n = send(sock, r, sizeof r, MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof r)
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		return false;
	}
}

static void close_fds(struct message *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* 1: a message (possibly empty or malformed), 0: the client closed its end, -1: error. */
static int receive(int sock, struct message *m)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	} control;
	struct iovec iov = {m->buf, sizeof m->buf};
	struct msghdr h = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = control.buf,
			   .msg_controllen = sizeof control.buf};
	ssize_t n;
	do
		n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	m->len = (size_t)n;
	m->nfds = 0;
	m->truncated = (h.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			m->truncated = true;
			continue;
		}
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
			if (m->nfds < MAX_FDS)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0 && m->nfds == 0) {
		/* A SEQPACKET read of 0 is either an empty message or the end: only the end
		 * comes with a hang-up. */
		struct pollfd p = {sock, POLLIN, 0};
		if (poll(&p, 1, 0) < 0 || (p.revents & POLLHUP))
			return 0;
	}
	return 1;
}

/* 0 when `m` is a well-formed request (its type in *type, its argument count in *nargs),
 * else the error code to reply. */
static unsigned check(const struct message *m, unsigned *type, unsigned *nargs)
{
	const uint8_t *b = m->buf;
	if (m->truncated || m->len < SX_ZYGOTE_REQUEST_HEADER_BYTES ||
	    memcmp(b, SX_ZYGOTE_REQUEST_MAGIC, 4) != 0)
		return SX_ZYGOTE_ERR_MALFORMED;
	if (sx_get_le16(b + 4) != SX_ZYGOTE_VERSION)
		return SX_ZYGOTE_ERR_VERSION;
	*type = sx_get_le16(b + 6);
	*nargs = sx_get_le16(b + 8);
	uint32_t strings_len = sx_get_le32(b + 12);
	if (sx_get_le16(b + 10) != 0 || strings_len > SX_ZYGOTE_MAX_STRINGS_BYTES ||
	    strings_len != m->len - SX_ZYGOTE_REQUEST_HEADER_BYTES)
		return SX_ZYGOTE_ERR_MALFORMED;
	if (*type == SX_ZYGOTE_REQ_KILL) {
		if (*nargs != 0 || strings_len != 0)
			return SX_ZYGOTE_ERR_MALFORMED;
		return m->nfds == 0 ? 0 : SX_ZYGOTE_ERR_FDS;
	}
	if (*type != SX_ZYGOTE_REQ_RUN || *nargs > SX_ZYGOTE_MAX_ARGS)
		return SX_ZYGOTE_ERR_MALFORMED;
	/* The strings are exactly `nargs` NUL-terminated ones, back to back. */
	const uint8_t *s = b + SX_ZYGOTE_REQUEST_HEADER_BYTES;
	unsigned nuls = 0;
	for (uint32_t i = 0; i < strings_len; i++)
		nuls += s[i] == 0;
	if (nuls != *nargs || (strings_len > 0 && s[strings_len - 1] != 0))
		return SX_ZYGOTE_ERR_MALFORMED;
	return m->nfds == SX_ZYGOTE_RUN_FDS ? 0 : SX_ZYGOTE_ERR_FDS;
}

static void reap(pid_t pid, int *status, struct rusage *ru)
{
	while (wait4(pid, status, 0, ru) < 0 && errno == EINTR)
		;
}

static noreturn void kill_and_leave(pid_t pid, int code)
{
	int status;
	struct rusage ru;
	kill(pid, SIGKILL);
	reap(pid, &status, &ru);
	exit(code);
}

/* The parent's side of one request: report the pid, kill on request, reap, report. */
static void watch(int sock, pid_t pid)
{
	/* pid is our child and only we reap it, so it cannot be reused before the pidfd
	 * exists; with the pidfd, poll tells us of the exit while the socket stays heard. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int err = errno, status;
		struct rusage ru;
		kill(pid, SIGKILL);
		reap(pid, &status, &ru);
		if (!reply(sock, SX_ZYGOTE_REPLY_ERROR, 0, SX_ZYGOTE_ERR_FORK, err, NULL))
			exit(0);
		return;
	}
	if (!reply(sock, SX_ZYGOTE_REPLY_STARTED, pid, 0, 0, NULL))
		kill_and_leave(pid, 0);
	for (;;) {
		struct pollfd p[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			kill_and_leave(pid, 1);
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		unsigned type = 0, nargs = 0;
		int r = receive(sock, &request);
		if (r <= 0)
			kill_and_leave(pid, r == 0 ? 0 : 1); /* the client is gone */
		unsigned err = check(&request, &type, &nargs);
		close_fds(&request);
		if (err == 0 && type == SX_ZYGOTE_REQ_KILL) {
			/* Not reaped yet, so the pid is still this child's. */
			kill(pid, SIGKILL);
			continue;
		}
		if (!reply(sock, SX_ZYGOTE_REPLY_ERROR, 0, err ? err : SX_ZYGOTE_ERR_BUSY, 0, NULL))
			kill_and_leave(pid, 0);
	}
	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	reap(pid, &status, &ru);
	close(pidfd);
	if (!reply(sock, SX_ZYGOTE_REPLY_DONE, pid, (uint32_t)status, 0, &ru))
		exit(0);
}

/* In the forked child: install the request's fds as 0, 1, 2 and drop everything else. */
static void become_child(int sock, pid_t zygote)
{
	/* Die with the zygote. If it is already gone the signal will never come: leave. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != zygote)
		_exit(SX_EXIT_NO_ANSWER);
	close(sock);
	int fds[SX_ZYGOTE_RUN_FDS];
	/* Lift each fd that sits on another's target above 2 first, so that installing one
	 * can never overwrite another. */
	for (int i = 0; i < (int)SX_ZYGOTE_RUN_FDS; i++) {
		fds[i] = request.fds[i];
		if (fds[i] != i && fds[i] < (int)SX_ZYGOTE_RUN_FDS)
			fds[i] = fcntl(fds[i], F_DUPFD, (int)SX_ZYGOTE_RUN_FDS);
		if (fds[i] < 0)
			_exit(SX_EXIT_NO_ANSWER);
	}
	for (int i = 0; i < (int)SX_ZYGOTE_RUN_FDS; i++)
		if (fds[i] != i && dup2(fds[i], i) != i)
			_exit(SX_EXIT_NO_ANSWER);
	if (!sx_close_fds_from(SX_ZYGOTE_RUN_FDS))
		_exit(SX_EXIT_NO_ANSWER);
}

/* Serves until the client leaves (then exits); returns in each forked child the number
 * of arguments in `request`. */
static unsigned serve(int sock)
{
	pid_t self = getpid();
	for (;;) {
		unsigned type = 0, nargs = 0;
		int r = receive(sock, &request);
		if (r <= 0)
			exit(r == 0 ? 0 : 1);
		unsigned err = check(&request, &type, &nargs);
		if (err) {
			close_fds(&request);
			if (!reply(sock, SX_ZYGOTE_REPLY_ERROR, 0, err, 0, NULL))
				exit(0);
			continue;
		}
		/* A kill with no child running came too late for the child it meant: drop it. */
		if (type == SX_ZYGOTE_REQ_KILL)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			become_child(sock, self);
			return nargs;
		}
		int fork_errno = errno;
		close_fds(&request);
		if (pid < 0) {
			if (!reply(sock, SX_ZYGOTE_REPLY_ERROR, 0, SX_ZYGOTE_ERR_FORK, fork_errno,
				   NULL))
				exit(0);
			continue;
		}
		watch(sock, pid);
	}
}

static int parse_fd(const char *s)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

static void start(int sock, const struct sx_family *family)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof type;
	if (sock < 0 || getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_SEQPACKET)
		cannot_start("--server FD must be a Unix SOCK_SEQPACKET socket");
	len = sizeof domain;
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX)
		cannot_start("--server FD must be a Unix SOCK_SEQPACKET socket");
	int probe = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (probe < 0)
		cannot_start("pidfd_open is not available (the fork server needs Linux 5.3)");
	close(probe);
	/* Children must be ours to reap: an inherited SIG_IGN would have the kernel reap them. */
	signal(SIGCHLD, SIG_DFL);
	struct rlimit no_core = {0, 0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &no_core) != 0)
		cannot_start("cannot apply prctl flags and rlimits");
	/* A failed warm-up is remembered: each child's own call answers it after the line. */
	void *ctx;
	if (family && sx_family_warm_up(family, &ctx) && family->prepare_server)
		family->prepare_server(ctx);
	/* glibc's lazy inits once here, not in every child's setup (a sysinfo and a time-zone
	 * file lookup per request otherwise). It sets TZ: unset again, so that children start
	 * with the empty environment a one-shot extractor has; theirs sets the same TZ, whose
	 * zone glibc then already holds. */
	sx_warm_libc();
	unsetenv("TZ");
	/* Every child gets a copy of stdio's buffers and flushes them in setup, onto its
	 * answer fd: they must be empty before the first fork, and stay so. */
	fflush(NULL);
	if (!sx_close_fds_except(sock))
		cannot_start("cannot close inherited descriptors");
	if (!reply(sock, SX_ZYGOTE_REPLY_READY, getpid(), 0, 0, NULL))
		exit(0);
}

/* In a forked child: a fresh stack canary, so that children of one zygote no longer share
 * it (a crash can then teach an attacker nothing about the next child's canary). Sound only
 * because no frame that saved the old canary will ever return: serve() and become_child()
 * have returned, sx_zygote_serve_if_asked() has no stack protector, and main() leaves
 * through sx_exit(). The low byte stays zero, as glibc makes it (it stops string copies
 * from reading the canary out). The pointer guard (%fs:0x30) cannot be changed this way:
 * glibc holds pointers mangled with it. Library addresses stay the zygote's: only an exec
 * changes those, hence retirement (pyclient/sandbox_extractor/_zygote.py). */
__attribute__((noinline, no_stack_protector)) static void renew_stack_canary(void)
{
#if defined(__x86_64__)
	uint64_t canary;
	if (getrandom(&canary, sizeof canary, 0) != (ssize_t)sizeof canary)
		_exit(SX_EXIT_NO_ANSWER);
	canary &= ~(uint64_t)0xff;
	__asm__ volatile("movq %0, %%fs:0x28" : : "r"(canary) : "memory");
#endif
}

__attribute__((no_stack_protector)) void sx_zygote_serve_if_asked(int *argc, char ***argv,
								  const struct sx_family *family)
{
	if (*argc != 3 || strcmp((*argv)[1], "--server") != 0)
		return;
	int sock = parse_fd((*argv)[2]);
	start(sock, family);
	unsigned nargs = serve(sock);
	renew_stack_canary();

	/* In a forked child: the request's arguments after the zygote's own argv[0]. */
	child_argv[0] = (*argv)[0];
	char *s = (char *)request.buf + SX_ZYGOTE_REQUEST_HEADER_BYTES;
	for (unsigned i = 0; i < nargs; i++) {
		child_argv[i + 1] = s;
		s += strlen(s) + 1;
	}
	child_argv[nargs + 1] = NULL;
	*argc = (int)nargs + 1;
	*argv = child_argv;
}
