/* sx_input.h: takes the whole untrusted input from an fd into memory.
 *
 * Phase: before the strict line (fstat, mmap, read, close).
 * A regular file is mapped read-only (from offset 0, whole file); anything else (pipe,
 * FIFO, socket) is read into a pool buffer until EOF. The input fd is closed once its
 * bytes are in memory, so the sandboxed code holds no fd to the input at all.
 * An empty input is taken like any other (size 0): each decode core says whether it is
 * bad input (an image) or valid (a Lua chunk).
 * Failures: SX_ERR_LIMIT past `max_bytes`, SX_ERR_IO when the fd cannot be read,
 * SX_ERR_NO_MEMORY when the pool is too small. A pipe's buffer grows to at most
 * `max_bytes` + 1 bytes: the extra byte tells LIMIT.
 * On failure `detail` (SX_DETAIL_MAX bytes) says why and `in` holds nothing.
 */
#ifndef SX_INPUT_H
#define SX_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "sx_status.h"

struct sx_input {
	const uint8_t *data;
	size_t size;
	int mapped; /* 1: mmap'd file, 0: pool buffer */
};

enum sx_status sx_input_take(int fd, uint64_t max_bytes, struct sx_input *in, char *detail);

#endif
