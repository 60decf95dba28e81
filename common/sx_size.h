/* sx_size.h: the one overflow-checked size arithmetic every size from input goes through.
 *
 * Phase: any. Pure functions. On overflow they return false and leave *out untouched.
 */
#ifndef SX_SIZE_H
#define SX_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool sx_mul_size(size_t a, size_t b, size_t *out)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

static inline bool sx_mul3_size(size_t a, size_t b, size_t c, size_t *out)
{
	size_t ab;
	return sx_mul_size(a, b, &ab) && sx_mul_size(ab, c, out);
}

static inline bool sx_add_size(size_t a, size_t b, size_t *out)
{
	size_t r;
	if (__builtin_add_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

#endif
