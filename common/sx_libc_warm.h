/* sx_libc_warm.h: finishes glibc's own lazy initialisations that would make a syscall the
 * first time a library calls them after the strict line.
 *
 * Phase: before the strict line (sx_setup() calls it for every extractor; a zygote calls it
 * before its first fork, so that its children's calls make no syscall).
 * Known cases, each checked under strace:
 * - qsort() asks sysconf(_SC_PHYS_PAGES) (a sysinfo syscall) the first time it sorts more
 *   than 1 KiB, and caches the answer; FreeType sorts WOFF table directories with it, and
 *   a WOFF with 300 tables got sx-font killed before this existed.
 * - The time zone: FFmpeg's mov and Matroska demuxers turn creation_time/DateUTC into a
 *   date (gmtime_r, strftime); glibc's first time-zone use loads /etc/localtime (openat),
 *   and localtime()/mktime() stat it again on every call while TZ is unset. sx_warm_libc
 *   sets TZ=UTC0 (a rule, no file) and converts a time once: later calls find TZ unchanged
 *   and return. Note: it changes the process environment (TZ), which nothing execs.
 * - iconv: not warmed but replaced. This file defines iconv_open() for the whole process
 *   (libraries included, like the pool's malloc): it always fails with EINVAL, the answer
 *   of a system without iconv, so no gconv module is ever loaded or unloaded. FFmpeg's
 *   MPEG-TS demuxer then keeps DVB service names as raw bytes; no extractor reports them.
 * Locale: nothing calls setlocale, so the built-in C locale is the only one; no data file.
 */
#ifndef SX_LIBC_WARM_H
#define SX_LIBC_WARM_H

void sx_warm_libc(void);

#endif
