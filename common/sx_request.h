/* sx_request.h: parses the request from argv, the only trusted request channel.
 *
 * Phase: setup, before the strict line (the help text goes through stdio).
 * sx_request_parse() fills `req` with defaults from sx_limits.h overridden by the
 * options, and returns SX_OK, or SX_ERR_BAD_REQUEST with a reason in `detail`
 * (SX_DETAIL_MAX bytes). `*wants_help` is set when --help was given.
 */
#ifndef SX_REQUEST_H
#define SX_REQUEST_H

#include <stdbool.h>

#include "sx_extract.h"

/* The request every option leaves alone: probe, RGBA, the defaults of sx_limits.h. Any
 * phase (the fuzz harnesses and the warm-up start from it too). */
void sx_request_defaults(struct sx_request *req);

/* --help sets *wants_help, --version *wants_version: both stop parsing and return SX_OK. */
enum sx_status sx_request_parse(int argc, char **argv, struct sx_request *req, bool *wants_help,
				bool *wants_version, char *detail);

/* Prints "PROG RELEASE (wire N, fork server N)" on stdout. */
void sx_request_print_version(const char *prog);

/* Prints the usage shared by all extractors on stdout, after `summary` (what this
 * extractor reads and what its modes return). */
void sx_request_print_usage(const char *prog, const char *summary);

/* Largest answer message `req` can produce, for RLIMIT_FSIZE when fd 1 is a file. */
uint64_t sx_request_max_answer_bytes(const struct sx_request *req);

#endif
