/* sx_limits.h: every cap and default the extractors enforce, in one place.
 *
 * Phase: any. Compile-time constants only. The request (argv) may lower or raise the
 * per-request values within the hard maxima below; nothing read from the input can.
 */
#ifndef SX_LIMITS_H
#define SX_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Memory pool: reserved (virtual, untouched) at first malloc, cut down to the request's
 * cap before the strict line. */
#define SX_POOL_RESERVE_BYTES ((uint64_t)4 << 30)
#define SX_POOL_DEFAULT_BYTES ((uint64_t)512 << 20)
#define SX_POOL_MIN_BYTES ((uint64_t)16 << 20)

/* Input size read from fd 0. */
#define SX_INPUT_DEFAULT_BYTES ((uint64_t)256 << 20)
#define SX_INPUT_MAX_BYTES ((uint64_t)2 << 30)

/* Pixels of the source image (width * height) an extractor agrees to decode. */
#define SX_PIXELS_DEFAULT ((uint64_t)64 << 20)
#define SX_PIXELS_MAX ((uint64_t)256 << 20)

/* Thumbnail box sides. */
#define SX_BOX_MAX_SIDE 8192u

/* CPU seconds (RLIMIT_CPU, soft == hard). */
#define SX_CPU_SECONDS_DEFAULT 10u
#define SX_CPU_SECONDS_MAX 300u

/* RLIMIT_STACK (soft == hard): after the strict line the stack is the only memory that
 * can still grow (by page faults), so it is bounded here as the pool is by its cap.
 * Linux's usual default; every test runs under it. RLIMIT_AS is not set: after the line
 * no mapping can be created or grown (mmap, mremap and brk are killed), so the stack is
 * the only growth, and a tight address-space limit before the line would break library
 * warm-ups that map files (time zone, iconv modules) in one-shot mode. */
#define SX_STACK_LIMIT_BYTES ((uint64_t)8 << 20)

/* RLIMIT_NOFILE once fds are closed: only 0..2 can exist anyway. */
#define SX_NOFILE_LIMIT 4u

/* Answer message bounds (PROTOCOL.md). */
#define SX_DETAIL_MAX 256u
#define SX_META_MAX_FIELDS 64u
#define SX_META_MAX_BYTES 65536u
#define SX_META_KEY_MAX 32u
#define SX_META_STRING_MAX 1024u

/* JPEG: progressive scans before we call it a scan bomb, and the total work allowed
 * (scans x width x height): 64 Mpixel photos with up to 32 scans (typical: under 12). */
#define SX_JPEG_MAX_SCANS 1000
#define SX_JPEG_MAX_SCAN_PIXELS ((uint64_t)1 << 31)

/* PNG: libpng's own limits. */
#define SX_PNG_MAX_SIDE 1000000u
#define SX_PNG_CHUNK_MALLOC_MAX ((uint32_t)8 << 20)
#define SX_PNG_CHUNK_CACHE_MAX 256u
/* Largest single allocation libpng may make (its rows for a 1e6-wide RGBA16 image: 8 MB). */
#define SX_PNG_MAX_ALLOC ((size_t)64 << 20)

#endif
