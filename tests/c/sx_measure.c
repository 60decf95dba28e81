/* sx_measure.c: test tool. Runs a command and reports its own peak RSS and CPU time.
 *
 * A process forked from a large parent (pytest) inherits that parent's RSS in its
 * ru_maxrss, even across exec, so the tests cannot measure an extractor from Python.
 * This small program forks it instead: the child starts from a tiny image, and its
 * rusage is the extractor's own. stdin, stdout, the environment and every fd pass
 * through untouched. The figures go to stderr as one line:
 *   sx-measure: maxrss_kib=N cpu_us=N
 * and the exit status mirrors the child's (128 + signal number when it was killed). */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sx-measure PROGRAM [ARGS...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid)
		return 2;
	long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec +
		      ru.ru_stime.tv_usec;
	fprintf(stderr, "sx-measure: maxrss_kib=%ld cpu_us=%ld\n", ru.ru_maxrss, cpu_us);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
