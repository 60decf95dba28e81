/* sx_bench.c: the timing helper of bench/run.py, which compiles it into its scratch
 * directory with `cc -O2`. A benchmark tool, not part of the build and not a test.
 *
 *   sx_bench exec N INPUT PROG [ARGS...]
 *       N times: fork, exec PROG ARGS with INPUT on fd 0 and /dev/null on fds 1 and 2, wait.
 *   sx_bench zygote N INPUT PROG [ARGS...]
 *       Starts `PROG --server FD` (PROTOCOL.md, "Fork-server requests") and sends it N run
 *       requests with ARGS, each with INPUT, a fresh answer pipe (read to EOF here) and
 *       /dev/null as stderr; a request's time runs from sendmsg to the done reply.
 *
 * Prints one line: `us=T1,T2,... maxrss_kib=M status=S`: the wall time of each run in
 * microseconds, the largest ru_maxrss seen (wait4 here, the done reply in zygote mode: a
 * forked child counts the pages it shares with its zygote), and the last raw wait status.
 * This process is small, so an exec'd child's ru_maxrss is its own, not an inherited one.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *empty_env[] = {NULL};

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void print_result(const double *us, int n, long maxrss, int status)
{
	printf("us=");
	for (int i = 0; i < n; i++)
		printf("%s%.1f", i ? "," : "", us[i]);
	printf(" maxrss_kib=%ld status=%d\n", maxrss, status);
}

static int run_exec(int n, const char *input, char **argv)
{
	double *us = calloc((size_t)n, sizeof *us);
	long maxrss = 0;
	int status = 0;
	for (int i = 0; i < n; i++) {
		double t = now_us();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int in = open(input, O_RDONLY), null = open("/dev/null", O_WRONLY);
			if (in < 0 || null < 0 || dup2(in, 0) < 0 || dup2(null, 1) < 0 ||
			    dup2(null, 2) < 0)
				_exit(126);
			execve(argv[0], argv, empty_env);
			_exit(127);
		}
		struct rusage ru;
		if (wait4(pid, &status, 0, &ru) != pid)
			die("wait4");
		us[i] = now_us() - t;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	print_result(us, n, maxrss, status);
	return 0;
}

static void get_reply(int sock, uint8_t r[40], unsigned want)
{
	ssize_t got = recv(sock, r, 40, 0);
	unsigned type = (unsigned)r[6] | (unsigned)r[7] << 8;
	if (got != 40 || memcmp(r, "SXZR", 4) != 0 || type != want) {
		fprintf(stderr, "sx_bench: unexpected fork-server reply (%zd bytes, type %u)\n",
			got, type);
		exit(2);
	}
}

static int run_zygote(int n, const char *input, char **argv, int argc)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair");
	pid_t zygote = fork();
	if (zygote < 0)
		die("fork");
	if (zygote == 0) {
		char fd[16];
		int keep = dup(sv[1]); /* without O_CLOEXEC */
		snprintf(fd, sizeof fd, "%d", keep);
		char *zargv[] = {argv[0], (char *)"--server", fd, NULL};
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execve(argv[0], zargv, empty_env);
		_exit(127);
	}
	close(sv[1]);
	uint8_t r[40];
	get_reply(sv[0], r, 1);

	/* The request: header, then the arguments as NUL-terminated strings. */
	uint8_t msg[16 + 4096];
	size_t len = 16;
	for (int i = 1; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (len + l > sizeof msg)
			die("arguments too long");
		memcpy(msg + len, argv[i], l);
		len += l;
	}
	uint32_t slen = (uint32_t)(len - 16);
	uint16_t head[4] = {1, 1, (uint16_t)(argc - 1), 0};
	memcpy(msg, "SXZQ", 4);
	memcpy(msg + 4, head, sizeof head);
	memcpy(msg + 12, &slen, 4);
	int null = open("/dev/null", O_WRONLY);

	double *us = calloc((size_t)n, sizeof *us);
	long maxrss = 0;
	int status = 0;
	for (int i = 0; i < n; i++) {
		int in = open(input, O_RDONLY | O_CLOEXEC), out[2];
		if (in < 0 || pipe2(out, O_CLOEXEC) != 0)
			die("open/pipe");
		int fds[3] = {in, out[1], null};
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof fds)];
		} control;
		struct iovec iov = {msg, len};
		struct msghdr h = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = control.buf,
				   .msg_controllen = sizeof control.buf};
		struct cmsghdr *c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof fds);
		memcpy(CMSG_DATA(c), fds, sizeof fds);
		double t = now_us();
		if (sendmsg(sv[0], &h, 0) != (ssize_t)len)
			die("sendmsg");
		close(in);
		close(out[1]);
		get_reply(sv[0], r, 2);
		char buf[1 << 16];
		while (read(out[0], buf, sizeof buf) > 0)
			;
		close(out[0]);
		get_reply(sv[0], r, 3);
		us[i] = now_us() - t;
		memcpy(&status, r + 12, 4);
		int64_t rss;
		memcpy(&rss, r + 32, 8);
		if (rss > maxrss)
			maxrss = (long)rss;
	}
	close(sv[0]);
	waitpid(zygote, NULL, 0);
	print_result(us, n, maxrss, status);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: sx_bench exec|zygote N INPUT PROG [ARGS...]\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (n < 1)
		return 2;
	if (strcmp(argv[1], "exec") == 0)
		return run_exec(n, argv[3], argv + 4);
	if (strcmp(argv[1], "zygote") == 0)
		return run_zygote(n, argv[3], argv + 4, argc - 4);
	return 2;
}
