/* sx_arena.h: a general-purpose allocator over one fixed region of memory.
 *
 * Phase: any. It never makes a syscall: all memory it hands out lies in the region given
 * to sx_arena_init(), so it keeps working after the strict line. It is the engine of the
 * process pool (sx_pool.h) and is tested on its own over ordinary buffers.
 *
 * Blocks carry boundary tags; freed blocks are coalesced with free neighbours, kept in
 * segregated size bins and reused, and a free block that touches the unallocated top is
 * given back to it, so alloc/free loops keep a small footprint. Any power-of-two
 * alignment is honoured. Running out (the region or the cap) returns NULL, never aborts.
 * Not thread-safe by itself: the pool wraps it in a lock.
 */
#ifndef SX_ARENA_H
#define SX_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SX_ARENA_BINS 128

struct sx_arena_free;

struct sx_arena {
	uint8_t *base;	     /* first byte of the region (16-byte aligned) */
	uint8_t *top;	     /* start of never-yet-allocated space */
	uint8_t *limit;	     /* one past the last byte that may be allocated (the cap) */
	uint8_t *high_water; /* highest `top` ever reached */
	struct sx_arena_free *bins[SX_ARENA_BINS];
	uint64_t bin_map[SX_ARENA_BINS / 64];
};

/* Takes over [mem, mem + size), which must be zero-filled (sx_arena_calloc relies on it).
 * `mem` must stay valid while the arena is used. */
void sx_arena_init(struct sx_arena *a, void *mem, size_t size);

/* Lowers the cap to `bytes` from the start of the region (never above what was given,
 * never below what is already in use). Returns the cap now in force. */
size_t sx_arena_set_cap(struct sx_arena *a, size_t bytes);

/* `align` must be a power of two (values below 16 mean 16). NULL when out of room. */
void *sx_arena_alloc(struct sx_arena *a, size_t size, size_t align);
/* Like sx_arena_alloc(size, 16), zero-filled. Memory never handed out before is still
 * zero from the kernel and is not written again (no page faults for nothing). */
void *sx_arena_calloc(struct sx_arena *a, size_t size);
/* `p` must come from this arena, or be NULL. */
void sx_arena_free(struct sx_arena *a, void *p);
/* realloc semantics: NULL p allocates; on failure the old block is left untouched. */
void *sx_arena_realloc(struct sx_arena *a, void *p, size_t size);
/* Bytes usable in the block at `p` (at least what was asked). */
size_t sx_arena_usable_size(const struct sx_arena *a, const void *p);
/* True when `p` points into the region. */
bool sx_arena_owns(const struct sx_arena *a, const void *p);

/* Bytes between base and the highest top ever reached: the real footprint. */
size_t sx_arena_footprint(const struct sx_arena *a);

#endif
