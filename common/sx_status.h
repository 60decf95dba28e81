/* sx_status.h: the one status enum every extractor answers with.
 *
 * Phase: any (before and after the strict line).
 * Numbers are fixed by PROTOCOL.md and never reused. Messages are static strings:
 * asking for one never allocates and never fails.
 */
#ifndef SX_STATUS_H
#define SX_STATUS_H

enum sx_status {
	SX_OK = 0,
	SX_ERR_BAD_INPUT = 1,
	SX_ERR_UNSUPPORTED = 2,
	SX_ERR_LIMIT = 3,
	SX_ERR_NO_MEMORY = 4,
	SX_ERR_IO = 5,
	SX_ERR_INTERNAL = 6,
	SX_ERR_BAD_REQUEST = 7,
	SX_ERR_SANDBOX = 8, /* the seccomp sandbox cannot be entered here: a deployment problem */
};

/* Static, NUL-terminated description of `status`; "unknown status" for values outside
 * the enum. */
const char *sx_status_message(enum sx_status status);

#endif
