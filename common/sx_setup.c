/* sx_setup.c: the trusted setup phase shared by all extractors. */
#include "sx_setup.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sx_hygiene.h"
#include "sx_libc_warm.h"
#include "sx_pool.h"
#include "sx_request.h"
#include "sx_strict.h"

enum sx_status sx_setup(int argc, char **argv, const char *prog, const char *summary,
			struct sx_request *req, struct sx_input *in, struct sx_result *result)
{
	bool help = false, version = false;
	sx_result_init(result);
	in->data = NULL;
	in->size = 0;
	enum sx_status status = sx_request_parse(argc, argv, req, &help, &version, result->detail);
	if (help || version) {
		if (help)
			sx_request_print_usage(prog, summary);
		else
			sx_request_print_version(prog);
		exit(0);
	}
	/* Cap the pool before reading input, so a large pipe input already counts. */
	if (status == SX_OK && !sx_pool_set_cap((size_t)req->memory))
		status = sx_fail(result, SX_ERR_INTERNAL, "cannot set up the memory pool");
	/* --sandbox-report and --posture-check are about the sandbox, not the input: an empty or
	 * oversized input does not stop it; a bad request or a failed setup step does. */
	bool report = status == SX_OK && req->sandbox_report;
	bool posture = status == SX_OK && req->posture_check;
	if (status == SX_OK)
		status = sx_input_take(SX_INPUT_FD, req->max_input, in, result->detail);
	/* glibc's own lazy inits (qsort's sysconf), for every extractor's libraries. */
	sx_warm_libc();
	/* stdio may have buffers and an fd of its own: flush before the fds go. */
	fflush(NULL);
	/* Close everything but the answer fd before anything untrusted runs, whatever happened
	 * above: a secret fd inherited from the parent must never reach the decoder. */
	if (!sx_close_fds_except(SX_ANSWER_FD)) {
		status = sx_fail(result, SX_ERR_INTERNAL, "cannot close inherited descriptors");
		report = posture = false;
	}
	if (!sx_harden(req->cpu_seconds ? req->cpu_seconds : SX_CPU_SECONDS_DEFAULT, SX_ANSWER_FD,
		       sx_request_max_answer_bytes(req))) {
		if (status == SX_OK)
			status = sx_fail(result, SX_ERR_INTERNAL, "cannot apply resource limits");
		report = posture = false;
	}
	if (report)
		sx_strict_report_after_line();
	if (posture)
		sx_strict_posture_after_line();
	return status;
}
