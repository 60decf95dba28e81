/* sx_hygiene.c: fds, rlimits and prctl flags for the setup phase. */
#include "sx_hygiene.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sx_limits.h"

static bool close_range_from(unsigned first, unsigned last)
{
	if (first > last)
		return true;
	if (close_range(first, last, 0) == 0)
		return true;
	if (errno != ENOSYS)
		return false;
	/* Kernels before 5.9: walk the whole descriptor table. */
	struct rlimit rl;
	unsigned max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
			   ? (unsigned)rl.rlim_cur
			   : 65536u;
	for (unsigned fd = first; fd <= last && fd < max; fd++)
		close((int)fd);
	return true;
}

bool sx_close_fds_except(int keep)
{
	bool ok = true;
	if (keep > 0)
		ok &= close_range_from(0, (unsigned)keep - 1);
	ok &= close_range_from(keep >= 0 ? (unsigned)keep + 1 : 0, ~0u);
	return ok;
}

bool sx_close_fds_from(unsigned first)
{
	return close_range_from(first, ~0u);
}

static bool set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};
	return setrlimit(resource, &rl) == 0;
}

/* The stack is the one place memory can still grow after the strict line: the kernel
 * extends it on a page fault, no syscall needed, up to RLIMIT_STACK. The limit inherited
 * from the service may be unlimited, which let a compromised child touch hundreds of MiB
 * past its pool cap. Soft == hard, so nothing can raise it again; never above the hard
 * limit we were given (only privileged processes may raise that). */
static bool limit_stack(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) != 0)
		return false;
	rlim_t value = SX_STACK_LIMIT_BYTES;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value)
		value = rl.rlim_max;
	return set_limit(RLIMIT_STACK, value);
}

bool sx_harden(unsigned cpu_seconds, int out_fd, uint64_t max_answer_bytes)
{
	struct stat st;
	rlim_t fsize = 0;
	if (fstat(out_fd, &st) == 0 && S_ISREG(st.st_mode))
		fsize = (rlim_t)max_answer_bytes;
	bool ok = true;
	ok &= set_limit(RLIMIT_CPU, cpu_seconds ? cpu_seconds : 1);
	ok &= set_limit(RLIMIT_CORE, 0);
	ok &= set_limit(RLIMIT_FSIZE, fsize);
	ok &= set_limit(RLIMIT_NOFILE, SX_NOFILE_LIMIT);
	ok &= limit_stack();
	ok &= prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
	ok &= prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
	return ok;
}
