/* sx_pool.c: the malloc family of the process, over one sx_arena reserved at first use.
 *
 * The reservation is MAP_NORESERVE: untouched pages cost nothing, so a large reserve is
 * cheap until sx_pool_set_cap() trims it to the request's cap before the strict line.
 */
#include "sx_pool.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sx_arena.h"
#include "sx_limits.h"
#include "sx_size.h"

/* The bottom of the pool left to ordinary pages (see ensure_pool). */
#define POOL_SMALL_BYTES ((uint64_t)8 << 20)

static struct sx_arena pool;
static uint8_t *reserve_end;
static int pool_state; /* 0 not set up, 1 ready, -1 the reservation failed */
static atomic_flag pool_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
	/* A spin lock: blocking would need futex, which strict mode forbids. */
	while (atomic_flag_test_and_set_explicit(&pool_lock, memory_order_acquire))
		;
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&pool_lock, memory_order_release);
}

/* Called with the lock held. Halves the reservation until the kernel agrees. */
static bool ensure_pool(void)
{
	if (pool_state)
		return pool_state > 0;
	pool_state = -1;
	for (uint64_t size = SX_POOL_RESERVE_BYTES; size >= SX_POOL_MIN_BYTES; size /= 2) {
		void *mem = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem != MAP_FAILED) {
			/* Transparent huge pages, where the system allows them, past the first
			 * few MiB: a decoder's frame and row buffers then cost one page fault per
			 * 2 MiB instead of 512 (a 1080p first frame took about 20% less time, a
			 * 6 MP PNG thumbnail 5-10%; bench/), while a small request, which never
			 * leaves the bottom of the arena, does not pay for zeroing a 2 MiB page.
			 * Advisory only: a refusal changes nothing. */
			if (size > POOL_SMALL_BYTES)
				(void)madvise((uint8_t *)mem + POOL_SMALL_BYTES,
					      (size_t)size - POOL_SMALL_BYTES, MADV_HUGEPAGE);
			sx_arena_init(&pool, mem, (size_t)size);
			reserve_end = (uint8_t *)mem + size;
			pool_state = 1;
			break;
		}
	}
	return pool_state > 0;
}

static void *pool_alloc(size_t size, size_t align)
{
	lock();
	void *p = ensure_pool() ? sx_arena_alloc(&pool, size, align) : NULL;
	unlock();
	if (!p)
		errno = ENOMEM;
	return p;
}

bool sx_pool_set_cap(size_t bytes)
{
	lock();
	bool ok = ensure_pool();
	if (ok) {
		size_t cap = sx_arena_set_cap(&pool, bytes);
		long page = sysconf(_SC_PAGESIZE);
		uintptr_t cut =
		    ((uintptr_t)pool.base + cap + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
		if (cut < (uintptr_t)reserve_end) {
			ok = munmap((void *)cut, (size_t)((uintptr_t)reserve_end - cut)) == 0;
			if (ok)
				reserve_end = (uint8_t *)cut;
		}
	}
	unlock();
	return ok;
}

size_t sx_pool_cap(void)
{
	lock();
	size_t cap = ensure_pool() ? (size_t)(pool.limit - pool.base) : 0;
	unlock();
	return cap;
}

size_t sx_pool_footprint(void)
{
	lock();
	size_t f = pool_state > 0 ? sx_arena_footprint(&pool) : 0;
	unlock();
	return f;
}

bool sx_pool_active(void)
{
	return true;
}

void *malloc(size_t size)
{
	return pool_alloc(size, 16);
}

void free(void *p)
{
	if (!p)
		return;
	lock();
	/* Memory from elsewhere (the dynamic loader's start-up allocator) is never ours to
	 * take back; ignoring it is the only safe answer. */
	if (pool_state > 0 && sx_arena_owns(&pool, p))
		sx_arena_free(&pool, p);
	unlock();
}

void *calloc(size_t count, size_t size)
{
	size_t total;
	if (!sx_mul_size(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	lock();
	void *p = ensure_pool() ? sx_arena_calloc(&pool, total) : NULL;
	unlock();
	if (!p)
		errno = ENOMEM;
	return p;
}

void *realloc(void *p, size_t size)
{
	if (!p)
		return pool_alloc(size, 16);
	if (size == 0) {
		free(p);
		return NULL;
	}
	lock();
	void *q = NULL;
	if (pool_state > 0 && sx_arena_owns(&pool, p))
		q = sx_arena_realloc(&pool, p, size);
	unlock();
	if (!q)
		errno = ENOMEM;
	return q;
}

void *reallocarray(void *p, size_t count, size_t size)
{
	size_t total;
	if (!sx_mul_size(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = pool_alloc(size, align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return pool_alloc(size, align);
}

void *memalign(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

/* The page size is fixed at 4096 on x86_64; asking sysconf here could run after the line. */
#define SX_PAGE 4096u

void *valloc(size_t size)
{
	return pool_alloc(size, SX_PAGE);
}

void *pvalloc(size_t size)
{
	size_t rounded;
	if (!sx_add_size(size, SX_PAGE - 1, &rounded)) {
		errno = ENOMEM;
		return NULL;
	}
	return pool_alloc(rounded & ~(size_t)(SX_PAGE - 1), SX_PAGE);
}

size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	lock();
	size_t n = pool_state > 0 && sx_arena_owns(&pool, p) ? sx_arena_usable_size(&pool, p) : 0;
	unlock();
	return n;
}
