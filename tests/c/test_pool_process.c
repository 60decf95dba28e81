/* test_pool_process.c: the malloc family of a process linked with the pool. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sx_pool.h"

int main(void)
{
	CHECK(sx_pool_active());
	for (size_t align = sizeof(void *); align <= 4096; align *= 2) {
		void *p = NULL;
		CHECK(posix_memalign(&p, align, 100) == 0);
		CHECK(p && (uintptr_t)p % align == 0);
		void *q = aligned_alloc(align, 3 * align);
		CHECK(q && (uintptr_t)q % align == 0);
		void *r = memalign(align, 1);
		CHECK(r && (uintptr_t)r % align == 0);
		free(p);
		free(q);
		free(r);
	}
	void *v = valloc(10), *pv = pvalloc(10);
	CHECK(v && (uintptr_t)v % 4096 == 0);
	CHECK(pv && (uintptr_t)pv % 4096 == 0 && malloc_usable_size(pv) >= 4096);
	free(v);
	free(pv);
	int *c = calloc(1000, sizeof(int));
	CHECK(c != NULL);
	for (int i = 0; i < 1000; i++)
		CHECK(c[i] == 0);
	/* volatile: the compiler must not see (and warn about) the overflow coming. */
	volatile size_t huge = SIZE_MAX / 2;
	CHECK(calloc(huge, 4) == NULL);
	CHECK(reallocarray(NULL, huge, 4) == NULL);
	c = reallocarray(c, 2000, sizeof(int));
	CHECK(c != NULL && c[999] == 0);
	free(c);

	/* The cap, as a request sets it: past it malloc says ENOMEM instead of growing. */
	CHECK(sx_pool_set_cap(32u << 20));
	CHECK(sx_pool_cap() <= (32u << 20));
	errno = 0;
	CHECK(malloc(64u << 20) == NULL && errno == ENOMEM);
	size_t total = 0;
	void *p;
	while ((p = malloc(1 << 20)) != NULL)
		total += 1 << 20;
	CHECK(total > (16u << 20) && total <= (32u << 20));
	CHECK(sx_pool_footprint() <= (32u << 20));
	return check_exit_status("test_pool_process");
}
