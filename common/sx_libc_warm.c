/* sx_libc_warm.c: glibc lazy initialisations, done before the strict line. */
#include "sx_libc_warm.h"

#include <stdlib.h>

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

void sx_warm_libc(void)
{
	/* More than 1 KiB of elements: the path that asks sysconf and caches it. */
	int v[1024];
	for (int i = 0; i < 1024; i++)
		v[i] = 1024 - i;
	qsort(v, 1024, sizeof v[0], compare_ints);
}
