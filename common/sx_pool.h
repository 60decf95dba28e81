/* sx_pool.h: the process-wide memory pool that replaces the whole malloc family.
 *
 * Linking sx_pool.c into an executable (it is built as an object library, never as part
 * of a shared or sanitizer build) makes malloc, free, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc and malloc_usable_size come
 * from one region reserved with a single mmap at the first call, which happens before
 * main. From then on no allocation makes a syscall, so decoders may allocate freely after
 * the strict line. When the cap is reached allocation returns NULL (errno ENOMEM), so
 * libraries fail with their own out-of-memory error.
 *
 * Phase: sx_pool_set_cap() only before the strict line (it unmaps the reserve above the
 * cap so memory past it cannot be touched even by code that ignores the allocator).
 * The rest: any phase.
 */
#ifndef SX_POOL_H
#define SX_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Lowers the pool to `bytes` (never raises it above the reservation). Returns false if
 * the pool could not be set up or the unmapping failed. */
bool sx_pool_set_cap(size_t bytes);
/* The cap now in force, and the highest number of bytes ever in use (footprint). */
size_t sx_pool_cap(void);
size_t sx_pool_footprint(void);
/* True when this process's malloc is the pool (false in sanitizer builds). */
bool sx_pool_active(void);

#endif
