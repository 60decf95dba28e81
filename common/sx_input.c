/* sx_input.c: maps or reads fd 0 before the strict line. */
#include "sx_input.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sx_limits.h"

__attribute__((format(printf, 3, 4))) static enum sx_status fail(char *detail, enum sx_status st,
								 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, SX_DETAIL_MAX, fmt, ap);
	va_end(ap);
	return st;
}

static enum sx_status map_file(int fd, const struct stat *st, uint64_t max_bytes,
			       struct sx_input *in, char *detail)
{
	if (st->st_size == 0) {
		/* Nothing to map (mmap refuses a length of 0); each decode core judges an empty
		 * input (an empty Lua chunk is valid, an empty image is not). */
		in->data = (const uint8_t *)"";
		in->size = 0;
		in->mapped = 0;
		return SX_OK;
	}
	if ((uint64_t)st->st_size > max_bytes)
		return fail(detail, SX_ERR_LIMIT, "input larger than the cap of %llu bytes",
			    (unsigned long long)max_bytes);
	void *p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return fail(detail, SX_ERR_IO, "cannot map the input (errno %llu)",
			    (unsigned long long)errno);
	in->data = p;
	in->size = (size_t)st->st_size;
	in->mapped = 1;
	return SX_OK;
}

static enum sx_status read_stream(int fd, uint64_t max_bytes, struct sx_input *in, char *detail)
{
	/* Never more than max_bytes + 1: one byte past the cap is what proves the input is
	 * over it. So a pipe of exactly max_bytes fits, and an endless one (/dev/zero) is a
	 * LIMIT, not a pool doubled past its size. */
	size_t most = max_bytes < SIZE_MAX - 1 ? (size_t)max_bytes + 1 : SIZE_MAX;
	size_t cap = most < 64 * 1024 ? most : 64 * 1024, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return fail(detail, SX_ERR_NO_MEMORY, "no memory for the input buffer");
	for (;;) {
		if (len == cap) {
			if (cap == most) {
				free(buf);
				return fail(detail, SX_ERR_LIMIT,
					    "input larger than the cap of %llu bytes",
					    (unsigned long long)max_bytes);
			}
			/* The buffer is the pool's last block here, so realloc grows it in place.
			 */
			size_t ncap = cap > most / 2 ? most : cap * 2;
			uint8_t *nbuf = realloc(buf, ncap);
			if (!nbuf) {
				free(buf);
				return fail(
				    detail, SX_ERR_NO_MEMORY,
				    "input does not fit in the memory pool (%llu bytes read)",
				    (unsigned long long)len);
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return fail(detail, SX_ERR_IO, "cannot read the input (errno %llu)",
				    (unsigned long long)errno);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_bytes) {
			free(buf);
			return fail(detail, SX_ERR_LIMIT, "input larger than the cap of %llu bytes",
				    (unsigned long long)max_bytes);
		}
	}
	in->data = buf;
	in->size = len;
	in->mapped = 0;
	return SX_OK;
}

enum sx_status sx_input_take(int fd, uint64_t max_bytes, struct sx_input *in, char *detail)
{
	struct stat st;
	enum sx_status status;
	in->data = NULL;
	in->size = 0;
	in->mapped = 0;
	detail[0] = '\0';
	if (fstat(fd, &st) != 0)
		status = fail(detail, SX_ERR_IO, "no input on fd 0 (errno %llu)",
			      (unsigned long long)errno);
	else if (S_ISREG(st.st_mode))
		status = map_file(fd, &st, max_bytes, in, detail);
	else if (S_ISDIR(st.st_mode))
		status = fail(detail, SX_ERR_IO, "input is a directory");
	else
		status = read_stream(fd, max_bytes, in, detail);
	/* The bytes are in memory now: the sandboxed code needs no fd to where they came from. */
	close(fd);
	return status;
}
