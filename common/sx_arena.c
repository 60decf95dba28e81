/* sx_arena.c: boundary-tag allocator with segregated free bins over one region.
 *
 * Block layout: a 16-byte header (prev_size, head) then the payload. `head` holds the
 * block size (a multiple of 16, header included) and two flags. `prev_size` is valid only
 * while the previous block is free. A free block keeps its list links in its payload.
 * Invariants: no two free blocks are adjacent, and no free block touches `top` (it is
 * given back to the top instead), so the block just below `top` is always in use.
 */
#include "sx_arena.h"

#include <string.h>

#define HEADER 16u
#define MIN_BLOCK 32u
#define INUSE ((size_t)1)
#define PREV_INUSE ((size_t)2)
#define FLAGS (INUSE | PREV_INUSE)
#define EXACT_BINS 64u

struct block {
	size_t prev_size;
	size_t head;
};

struct sx_arena_free {
	struct sx_arena_free *next, *prev;
};

static inline size_t block_size(const struct block *b)
{
	return b->head & ~FLAGS;
}
static inline struct block *block_of(const void *p)
{
	return (struct block *)((uint8_t *)p - HEADER);
}
static inline void *payload_of(struct block *b)
{
	return (uint8_t *)b + HEADER;
}
static inline struct block *next_block(struct block *b)
{
	return (struct block *)((uint8_t *)b + block_size(b));
}

static unsigned bin_index(size_t size)
{
	if (size < EXACT_BINS * 16)
		return (unsigned)(size / 16);
	unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)size);
	size_t idx = EXACT_BINS + (size_t)(e - 10) * 4 + ((size >> (e - 2)) & 3);
	return idx >= SX_ARENA_BINS ? SX_ARENA_BINS - 1 : (unsigned)idx;
}

static void bin_insert(struct sx_arena *a, struct block *b)
{
	unsigned i = bin_index(block_size(b));
	struct sx_arena_free *f = payload_of(b);
	f->prev = NULL;
	f->next = a->bins[i];
	if (f->next)
		f->next->prev = f;
	a->bins[i] = f;
	a->bin_map[i / 64] |= (uint64_t)1 << (i % 64);
}

static void bin_remove(struct sx_arena *a, struct block *b)
{
	unsigned i = bin_index(block_size(b));
	struct sx_arena_free *f = payload_of(b);
	if (f->prev)
		f->prev->next = f->next;
	else
		a->bins[i] = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (!a->bins[i])
		a->bin_map[i / 64] &= ~((uint64_t)1 << (i % 64));
}

void sx_arena_init(struct sx_arena *a, void *mem, size_t size)
{
	uintptr_t start = ((uintptr_t)mem + 15) & ~(uintptr_t)15;
	uintptr_t end = ((uintptr_t)mem + size) & ~(uintptr_t)15;
	if (end < start)
		end = start;
	memset(a, 0, sizeof *a);
	a->base = a->top = a->high_water = (uint8_t *)start;
	a->limit = (uint8_t *)end;
}

size_t sx_arena_set_cap(struct sx_arena *a, size_t bytes)
{
	size_t now = (size_t)(a->limit - a->base);
	size_t used = (size_t)(a->high_water - a->base);
	if (bytes < now)
		a->limit = a->base + (bytes > used ? bytes & ~(size_t)15 : used);
	return (size_t)(a->limit - a->base);
}

bool sx_arena_owns(const struct sx_arena *a, const void *p)
{
	return (const uint8_t *)p >= a->base + HEADER && (const uint8_t *)p < a->top;
}

size_t sx_arena_footprint(const struct sx_arena *a)
{
	return (size_t)(a->high_water - a->base);
}

/* Block size for a payload of `size` bytes; 0 when it cannot be represented. */
static size_t need_for(size_t size)
{
	if (size > SIZE_MAX / 2)
		return 0;
	size_t n = (size + HEADER + 15) & ~(size_t)15;
	return n < MIN_BLOCK ? MIN_BLOCK : n;
}

/* Frees block `b` (marked in use) and coalesces it with its free neighbours or the top. */
static void release_block(struct sx_arena *a, struct block *b)
{
	size_t size = block_size(b);
	struct block *n = next_block(b);
	if (!(b->head & PREV_INUSE)) {
		struct block *p = (struct block *)((uint8_t *)b - b->prev_size);
		bin_remove(a, p);
		size += block_size(p);
		b = p;
	}
	if ((uint8_t *)n == a->top) {
		a->top = (uint8_t *)b;
		return;
	}
	if (!(n->head & INUSE)) {
		bin_remove(a, n);
		size += block_size(n);
	}
	b->head = size | PREV_INUSE;
	n = next_block(b);
	n->prev_size = size;
	n->head &= ~PREV_INUSE;
	bin_insert(a, b);
}

/* Cuts block `b` (in use) down to `n` bytes, releasing the tail when it is worth a block. */
static void shrink_block(struct sx_arena *a, struct block *b, size_t n)
{
	size_t size = block_size(b);
	if (size - n < MIN_BLOCK)
		return;
	b->head = n | (b->head & FLAGS);
	struct block *tail = (struct block *)((uint8_t *)b + n);
	tail->head = (size - n) | INUSE | PREV_INUSE;
	release_block(a, tail);
}

/* Takes free block `b` out of its bin and marks it in use. */
static void claim_block(struct sx_arena *a, struct block *b)
{
	bin_remove(a, b);
	b->head |= INUSE;
	next_block(b)->head |= PREV_INUSE;
}

static struct block *find_free(struct sx_arena *a, size_t n)
{
	unsigned i = bin_index(n);
	for (struct sx_arena_free *f = a->bins[i]; f; f = f->next) {
		struct block *b = block_of(f);
		if (block_size(b) >= n)
			return b;
	}
	for (unsigned w = (i + 1) / 64; w < SX_ARENA_BINS / 64; w++) {
		uint64_t bits = a->bin_map[w];
		if (w == (i + 1) / 64)
			bits &= ~(uint64_t)0 << ((i + 1) % 64);
		while (bits) {
			unsigned j = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			/* Every block in a higher bin is big enough, except in the last, open bin.
			 */
			for (struct sx_arena_free *f = a->bins[j]; f; f = f->next)
				if (block_size(block_of(f)) >= n)
					return block_of(f);
		}
	}
	return NULL;
}

static struct block *take_block(struct sx_arena *a, size_t n)
{
	struct block *b = find_free(a, n);
	if (b) {
		claim_block(a, b);
		shrink_block(a, b, n);
		return b;
	}
	if ((size_t)(a->limit - a->top) < n)
		return NULL;
	b = (struct block *)a->top;
	b->head = n | INUSE | PREV_INUSE;
	a->top += n;
	if (a->top > a->high_water)
		a->high_water = a->top;
	return b;
}

void *sx_arena_alloc(struct sx_arena *a, size_t size, size_t align)
{
	if (align & (align - 1))
		return NULL;
	size_t n = need_for(size);
	if (n == 0)
		return NULL;
	if (align <= 16) {
		struct block *b = take_block(a, n);
		return b ? payload_of(b) : NULL;
	}
	if (align > SIZE_MAX / 4 || n > SIZE_MAX / 2 - 2 * align)
		return NULL;
	/* Over-allocate, then give back the lead-in before the aligned payload (at least a
	 * whole block, so it can stand free on its own) and the tail. */
	struct block *raw = take_block(a, n + 2 * align + MIN_BLOCK);
	if (!raw)
		return NULL;
	uintptr_t p = (uintptr_t)payload_of(raw);
	uintptr_t q = (p + align - 1) & ~(uintptr_t)(align - 1);
	if (q != p && q - p < MIN_BLOCK)
		q += align;
	struct block *b = raw;
	if (q != p) {
		size_t lead = q - p;
		size_t rest = block_size(raw) - lead;
		b = block_of((void *)q);
		b->head = rest | INUSE | PREV_INUSE;
		raw->head = lead | INUSE | (raw->head & PREV_INUSE);
		release_block(a, raw);
	}
	shrink_block(a, b, n);
	return (void *)q;
}

void *sx_arena_calloc(struct sx_arena *a, size_t size)
{
	/* Above the old high-water mark nothing was ever handed out: the pages are as the
	 * kernel gave them (the region must come zeroed, as anonymous mmap does). */
	uint8_t *fresh_from = a->high_water;
	uint8_t *p = sx_arena_alloc(a, size, 16);
	if (p && p < fresh_from)
		memset(p, 0, size);
	return p;
}

void sx_arena_free(struct sx_arena *a, void *p)
{
	if (!p)
		return;
	release_block(a, block_of(p));
}

size_t sx_arena_usable_size(const struct sx_arena *a, const void *p)
{
	(void)a;
	if (!p)
		return 0;
	return block_size(block_of(p)) - HEADER;
}

void *sx_arena_realloc(struct sx_arena *a, void *p, size_t size)
{
	if (!p)
		return sx_arena_alloc(a, size, 16);
	size_t n = need_for(size);
	if (n == 0)
		return NULL;
	struct block *b = block_of(p);
	size_t have = block_size(b);
	if (n <= have) {
		shrink_block(a, b, n);
		return p;
	}
	struct block *nx = next_block(b);
	if ((uint8_t *)nx == a->top) {
		if ((size_t)(a->limit - (uint8_t *)b) >= n) {
			b->head = n | (b->head & FLAGS);
			a->top = (uint8_t *)b + n;
			if (a->top > a->high_water)
				a->high_water = a->top;
			return p;
		}
	} else if (!(nx->head & INUSE) && have + block_size(nx) >= n) {
		bin_remove(a, nx);
		b->head = (have + block_size(nx)) | (b->head & FLAGS);
		next_block(b)->head |= PREV_INUSE;
		shrink_block(a, b, n);
		return p;
	}
	void *q = sx_arena_alloc(a, size, 16);
	if (!q)
		return NULL;
	memcpy(q, p, have - HEADER);
	sx_arena_free(a, p);
	return q;
}
