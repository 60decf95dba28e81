/* sx_extract.c: helpers around struct sx_result shared by all decode cores. */
#include "sx_extract.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sx_result_init(struct sx_result *result)
{
	result->kind = SX_RESULT_NONE;
	sx_meta_init(&result->meta);
	result->image.width = result->image.height = 0;
	result->image.channels = 0;
	result->image.pixels = NULL;
	result->frame_count = 0;
	result->loop_count = 0;
	result->detail[0] = '\0';
}

void sx_result_release(struct sx_result *result)
{
	free(result->image.pixels);
	result->image.pixels = NULL;
	result->kind = SX_RESULT_NONE;
}

enum sx_status sx_fail(struct sx_result *result, enum sx_status status, const char *fmt, ...)
{
	/* vsnprintf formats into a caller buffer and makes no syscall: safe after the line. */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(result->detail, sizeof result->detail, fmt, ap);
	va_end(ap);
#ifdef SX_SANITIZER_BUILD
	/* A bug must never pass for bad input: sanitizer and fuzz builds stop right here. */
	if (status == SX_ERR_INTERNAL)
		__builtin_trap();
#endif
	return status;
}
