/* sx_libc_warm.h: finishes glibc's own lazy initialisations that would make a syscall the
 * first time a library calls them after the strict line.
 *
 * Phase: before the strict line (sx_setup() calls it for every extractor).
 * Known cases, each checked under strace:
 * - qsort() asks sysconf(_SC_PHYS_PAGES) (a sysinfo syscall) the first time it sorts more
 *   than 1 KiB, and caches the answer; FreeType sorts WOFF table directories with it, and
 *   a WOFF with 300 tables got sx-font killed before this existed.
 */
#ifndef SX_LIBC_WARM_H
#define SX_LIBC_WARM_H

void sx_warm_libc(void);

#endif
