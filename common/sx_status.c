/* sx_status.c: static messages for the status enum. */
#include "sx_status.h"

const char *sx_status_message(enum sx_status status)
{
	switch (status) {
	case SX_OK: return "ok";
	case SX_ERR_BAD_INPUT: return "bad input";
	case SX_ERR_UNSUPPORTED: return "unsupported format";
	case SX_ERR_LIMIT: return "limit exceeded";
	case SX_ERR_NO_MEMORY: return "out of memory";
	case SX_ERR_IO: return "i/o error";
	case SX_ERR_INTERNAL: return "internal error";
	case SX_ERR_BAD_REQUEST: return "bad request";
	case SX_ERR_SANDBOX: return "sandbox unavailable";
	}
	return "unknown status";
}
