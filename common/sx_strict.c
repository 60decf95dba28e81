/* sx_strict.c: entering seccomp strict mode and the raw exit. */
#include "sx_strict.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sx_answer.h"
#include "sx_wire.h"

noreturn void sx_exit(int status)
{
	for (;;)
		syscall(SYS_exit, status);
}

void sx_enter_strict_mode(int answer_fd)
{
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0) {
		sx_answer_error(answer_fd, SX_ERR_INTERNAL, "cannot enter seccomp strict mode");
		sx_exit(SX_EXIT_ERROR);
	}
}
