/* sx_strict.h: the strict line, and the only way out after it.
 *
 * SX_ENTER_STRICT_MODE() confines the process to read, write, _exit and rt_sigreturn; from
 * the next instruction on any other syscall (including exit_group, which glibc's exit()
 * and _exit() use) kills it. One decision, taken from prctl(PR_GET_SECCOMP):
 *   0 (no seccomp yet): prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT); a violation is SIGKILL.
 *   2 (a container or service manager already put a filter on the process, and the kernel
 *     refuses strict mode to it): sx_strict_filter.h's BPF filter, exactly as strict
 *     (x86_64 only, no x32, the same four calls); a violation is SIGSYS, which no handler
 *     can catch (SECCOMP_RET_KILL_PROCESS).
 * If neither can be entered (prctl forbidden, the filter refused, an unknown mode), the
 * macro writes an SX_ERR_SANDBOX answer whose detail names the cause on fd `answer_fd` and
 * leaves: the untrusted phase never runs unconfined.
 *
 * Phase: the line itself. Everything after it: no stdio, no clocks, no sysconf, no lazy
 * library init, and leave through sx_exit(). sx_sandbox_in_force() may be called after it.
 */
#ifndef SX_STRICT_H
#define SX_STRICT_H

#include <stdnoreturn.h>

/* Leaves with the raw SYS_exit syscall (allowed in strict mode). */
noreturn void sx_exit(int status);

void sx_enter_strict_mode(int answer_fd);

#define SX_ENTER_STRICT_MODE(answer_fd) sx_enter_strict_mode(answer_fd)

enum sx_sandbox {
	SX_SANDBOX_NONE = 0,   /* the line has not been crossed */
	SX_SANDBOX_STRICT = 1, /* SECCOMP_MODE_STRICT */
	SX_SANDBOX_FILTER = 2, /* the equivalent filter, under an outer one */
};

/* Which sandbox the line entered. Reads a variable: no syscall, any phase. */
enum sx_sandbox sx_sandbox_in_force(void);

/* "strict", "filter" or "none", static. */
const char *sx_sandbox_name(enum sx_sandbox sandbox);

/* Setup only (sx_setup() calls it for --sandbox-report): once the line is crossed, the
 * macro answers a metadata message {format: "sandbox", sandbox: "strict"|"filter"} on
 * `answer_fd` and leaves with SX_EXIT_RESULT; the untrusted phase never runs. For the tests
 * and for deployment checks on the installed extractors (PROTOCOL.md, "Sandbox report"). */
void sx_strict_report_after_line(void);

/* Setup only (sx_setup() calls it for --posture-check): once the line is crossed, the macro
 * makes a forbidden system call (getppid). Where the sandbox is enforced the kernel kills
 * the process there (SIGKILL; SIGSYS under the filter). If it survives (a kernel, runtime
 * or emulator that accepted prctl but enforces nothing), it answers a metadata message
 * {format: "posture", sandbox: "strict"|"filter", survived: true} and leaves with
 * SX_EXIT_RESULT. For `sandbox-extractor doctor` and the client's start-up check. */
void sx_strict_posture_after_line(void);

#endif
