/* test_arena.c: the allocator engine behind the pool: alignment, realloc, reuse, cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sx_arena.h"

#define REGION (64u << 20)

static struct sx_arena arena;
static uint8_t *region;

static void reset(size_t size)
{
	memset(region, 0, size); /* the arena's contract: it takes over zeroed memory */
	sx_arena_init(&arena, region, size);
}

static void test_alignment(void)
{
	reset(REGION);
	for (size_t align = 1; align <= 4096; align *= 2) {
		for (size_t size = 1; size < 5000; size += 777) {
			uint8_t *p = sx_arena_alloc(&arena, size, align);
			CHECK(p != NULL);
			CHECK(((uintptr_t)p % (align < 16 ? 16 : align)) == 0);
			CHECK(sx_arena_usable_size(&arena, p) >= size);
			memset(p, 0xAB, size);
			if (size % 2)
				sx_arena_free(&arena,
					      p); /* leave some live to fragment the region */
		}
	}
}

static void test_realloc(void)
{
	reset(REGION);
	uint8_t *p = sx_arena_realloc(&arena, NULL, 10);
	CHECK(p != NULL);
	for (int i = 0; i < 10; i++)
		p[i] = (uint8_t)i;
	uint8_t *blocker = sx_arena_alloc(&arena, 100, 16); /* forces a move on growth */
	for (size_t size = 10; size < 200000; size = size * 3 / 2) {
		p = sx_arena_realloc(&arena, p, size * 3 / 2);
		CHECK(p != NULL);
		for (int i = 0; i < 10; i++)
			CHECK(p[i] == (uint8_t)i);
		memset(p + 10, 0x5A, size * 3 / 2 - 10);
	}
	p = sx_arena_realloc(&arena, p, 20); /* shrink in place keeps the prefix */
	CHECK(p != NULL);
	for (int i = 0; i < 10; i++)
		CHECK(p[i] == (uint8_t)i);
	sx_arena_free(&arena, blocker);
	sx_arena_free(&arena, p);
	CHECK(arena.top == arena.base); /* everything went back to the top */
}

/* 1e6 alloc/free of mixed sizes with a bounded live set: the footprint must stay small,
 * which a bump allocator that never reuses memory cannot do. Each block carries a pattern
 * checked on free, so overlapping blocks would be caught. */
static void test_reuse(void)
{
	reset(REGION);
	enum { SLOTS = 256 };
	uint8_t *slot[SLOTS] = {0};
	size_t len[SLOTS] = {0};
	uint32_t x = 1;
	size_t live_max = 0;
	for (int i = 0; i < 1000000; i++) {
		x = x * 1664525u + 1013904223u;
		unsigned s = (x >> 8) % SLOTS;
		if (slot[s]) {
			for (size_t k = 0; k < len[s]; k += 61)
				CHECK(slot[s][k] == (uint8_t)s);
			sx_arena_free(&arena, slot[s]);
			slot[s] = NULL;
		} else {
			size_t size = (x >> 20) % 3 == 0 ? (x >> 12) % 16384 : (x >> 16) % 256;
			size_t align = (x >> 28) == 0 ? 256 : 16;
			slot[s] = sx_arena_alloc(&arena, size, align);
			CHECK(slot[s] != NULL);
			if (!slot[s])
				break;
			len[s] = size;
			memset(slot[s], (int)s, size);
		}
		size_t live = 0;
		if (i % 4096 == 0) {
			for (int k = 0; k < SLOTS; k++)
				live += slot[k] ? len[k] : 0;
			if (live > live_max)
				live_max = live;
		}
	}
	/* At most 256 blocks of < 16 KiB live: 4 MiB; allow fragmentation up to 2x. */
	printf("reuse: footprint %zu bytes after 1e6 operations\n", sx_arena_footprint(&arena));
	CHECK(sx_arena_footprint(&arena) < (8u << 20));
	for (int k = 0; k < SLOTS; k++)
		sx_arena_free(&arena, slot[k]);
	CHECK(arena.top == arena.base);
}

static void test_cap(void)
{
	reset(REGION);
	CHECK(sx_arena_set_cap(&arena, 1 << 20) == 1 << 20);
	void *big = sx_arena_alloc(&arena, 2 << 20, 16);
	CHECK(big == NULL);
	void *blocks[64];
	int n = 0;
	while (n < 64 && (blocks[n] = sx_arena_alloc(&arena, 64 << 10, 16)) != NULL)
		n++;
	CHECK(n > 0 && n < 16); /* 1 MiB holds fewer than 16 blocks of 64 KiB + headers */
	CHECK(sx_arena_alloc(&arena, 64 << 10, 16) == NULL);
	CHECK(sx_arena_realloc(&arena, blocks[0], 4 << 20) == NULL); /* old block untouched */
	sx_arena_free(&arena, blocks[n - 1]);
	CHECK(sx_arena_alloc(&arena, 64 << 10, 16) != NULL); /* freed memory is usable again */
	CHECK(sx_arena_alloc(&arena, SIZE_MAX - 8, 16) == NULL);
	CHECK(sx_arena_alloc(&arena, 16, 3) == NULL); /* not a power of two */
}

static void test_calloc(void)
{
	reset(REGION);
	uint8_t *a = sx_arena_alloc(&arena, 4096, 16);
	memset(a, 0xEE, 4096);
	sx_arena_free(&arena, a); /* dirty memory goes back to the top */
	uint8_t *b = sx_arena_calloc(&arena, 4096);
	CHECK(b == a);
	for (int i = 0; i < 4096; i++)
		CHECK(b[i] == 0);
	uint8_t *c = sx_arena_calloc(&arena, 1000); /* fresh: above the high-water mark */
	for (int i = 0; c && i < 1000; i++)
		CHECK(c[i] == 0);
}

int main(void)
{
	region = calloc(1, REGION);
	if (!region)
		return 2;
	test_alignment();
	test_realloc();
	test_reuse();
	test_cap();
	test_calloc();
	free(region);
	return check_exit_status("test_arena");
}
