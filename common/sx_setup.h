/* sx_setup.h: phase 1 of every extractor, in one call.
 *
 * Phase: before the strict line only.
 * sx_setup() parses argv into `req` (printing usage and exiting 0 on --help), caps the
 * pool, takes the input from fd 0 into memory (fd 0 is closed afterwards), closes every fd
 * but the answer fd, applies rlimits and prctl flags, and finishes glibc's own lazy
 * initialisations (sx_libc_warm.h). It always returns, except for --help: on failure it
 * returns the status and leaves the reason in result->detail, and the caller still
 * crosses the strict line before answering, so no failure path runs unconfined with
 * input in memory.
 */
#ifndef SX_SETUP_H
#define SX_SETUP_H

#include "sx_extract.h"
#include "sx_input.h"

#define SX_INPUT_FD 0
#define SX_ANSWER_FD 1

enum sx_status sx_setup(int argc, char **argv, const char *prog, const char *summary,
			struct sx_request *req, struct sx_input *in, struct sx_result *result);

#endif
