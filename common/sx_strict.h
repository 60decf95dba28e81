/* sx_strict.h: the strict line, and the only way out after it.
 *
 * SX_ENTER_STRICT_MODE() calls prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT). From the next
 * instruction on, the kernel allows read, write, _exit and rt_sigreturn only; any other
 * syscall (including exit_group, which glibc's exit() and _exit() use) is answered with
 * SIGKILL. If the prctl fails, the macro writes an SX_ERR_INTERNAL answer on fd 1 and
 * leaves: the untrusted phase never runs unconfined.
 *
 * Phase: the line itself. Everything after it: no stdio, no clocks, no sysconf, no lazy
 * library init, and leave through sx_exit().
 */
#ifndef SX_STRICT_H
#define SX_STRICT_H

#include <stdnoreturn.h>

/* Leaves with the raw SYS_exit syscall (allowed in strict mode). */
noreturn void sx_exit(int status);

void sx_enter_strict_mode(int answer_fd);

#define SX_ENTER_STRICT_MODE(answer_fd) sx_enter_strict_mode(answer_fd)

#endif
