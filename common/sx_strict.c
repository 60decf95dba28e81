/* sx_strict.c: the strict line (strict mode, or its filter twin under an outer filter)
 * and the raw exit. */
#include "sx_strict.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sx_answer.h"
#include "sx_meta.h"
#include "sx_status.h"
#include "sx_strict_filter.h"
#include "sx_wire.h"

static enum sx_sandbox in_force = SX_SANDBOX_NONE;
static bool report_after_line;
static bool posture_after_line;
/* Static: a metadata buffer is 64 KiB; only --sandbox-report touches it. */
static struct sx_meta report;

noreturn void sx_exit(int status)
{
	for (;;)
		syscall(SYS_exit, status);
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "an unknown errno";
}

/* Answers SX_ERR_SANDBOX with the detail `before` `cause` `after`, and leaves, never having
 * run a line of the untrusted phase. */
static noreturn void refuse(int answer_fd, const char *before, const char *cause, const char *after)
{
	char detail[SX_DETAIL_MAX];
	snprintf(detail, sizeof detail, "%s%s%s", before, cause, after);
	sx_answer_error(answer_fd, SX_ERR_SANDBOX, detail);
	sx_exit(SX_EXIT_ERROR);
}

/* After the line: the sandbox report, then leave. */
static noreturn void answer_report(int answer_fd)
{
	sx_meta_init(&report);
	sx_meta_add_cstring(&report, "format", "sandbox");
	sx_meta_add_cstring(&report, "sandbox", sx_sandbox_name(in_force));
	sx_exit(sx_answer_meta(answer_fd, &report) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER);
}

static void enter(int answer_fd)
{
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	if (mode < 0)
		refuse(answer_fd,
		       "cannot read the seccomp mode (prctl PR_GET_SECCOMP: ", errno_name(errno),
		       "): the seccomp profile must allow prctl");
	if (mode == SECCOMP_MODE_DISABLED) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0)
			refuse(answer_fd,
			       "cannot enter seccomp strict mode (prctl PR_SET_SECCOMP: ",
			       errno_name(errno), ")");
		in_force = SX_SANDBOX_STRICT;
		return;
	}
	if (mode == SECCOMP_MODE_FILTER) {
		/* An outer filter (container, service manager) is in force: the kernel refuses
		 * strict mode, but accepts a filter on top, and the strictest verdict wins. */
		int err = sx_strict_filter_install();
		if (err)
			refuse(answer_fd,
			       "a seccomp filter is already in force and ours could not be added "
			       "(prctl PR_SET_SECCOMP: ",
			       errno_name(err), "): the seccomp profile must allow prctl");
		in_force = SX_SANDBOX_FILTER;
		return;
	}
	char number[16];
	snprintf(number, sizeof number, "%d", mode);
	refuse(answer_fd, "unknown seccomp mode ", number, ": neither strict mode nor a filter");
}

/* After the line: a call strict mode forbids. Reaching the answer below means nothing
 * enforced the line; the client treats that answer as the alarm it is. */
static noreturn void check_posture(int answer_fd)
{
	(void)syscall(SYS_getppid);
	sx_meta_init(&report);
	sx_meta_add_cstring(&report, "format", "posture");
	sx_meta_add_cstring(&report, "sandbox", sx_sandbox_name(in_force));
	sx_meta_add_bool(&report, "survived", true);
	sx_exit(sx_answer_meta(answer_fd, &report) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER);
}

void sx_enter_strict_mode(int answer_fd)
{
	enter(answer_fd);
	if (posture_after_line)
		check_posture(answer_fd);
	if (report_after_line)
		answer_report(answer_fd);
}

void sx_strict_posture_after_line(void)
{
	posture_after_line = true;
}

void sx_strict_report_after_line(void)
{
	report_after_line = true;
}

enum sx_sandbox sx_sandbox_in_force(void)
{
	return in_force;
}

const char *sx_sandbox_name(enum sx_sandbox sandbox)
{
	switch (sandbox) {
	case SX_SANDBOX_STRICT: return "strict";
	case SX_SANDBOX_FILTER: return "filter";
	case SX_SANDBOX_NONE: break;
	}
	return "none";
}
