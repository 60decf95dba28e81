/* sx_libc_warm.c: glibc lazy initialisations, done before the strict line, and glibc's
 * iconv_open replaced by one that needs no file. */
#include "sx_libc_warm.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Every extractor links this file (sx_setup calls sx_warm_libc), so this definition
 * interposes glibc's for the whole process, libraries included, exactly as the pool
 * interposes malloc. glibc's iconv_open reads gconv-modules.cache and dlopens a gconv
 * module on first use of a character set, and dlcloses modules on later iconv_close
 * calls: after the line, open/mmap/munmap are a SIGKILL. No extractor reports converted
 * text (sx-video answers no DVB service names), so every conversion fails cleanly, the
 * answer of a system without iconv: FFmpeg's MPEG-TS demuxer then keeps the raw bytes. */
iconv_t iconv_open(const char *tocode, const char *fromcode)
{
	(void)tocode;
	(void)fromcode;
	errno = EINVAL;
	return (iconv_t)-1;
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* A POSIX TZ rule needs no zoneinfo file. glibc loads the zone once per TZ value: every
 * later localtime/mktime/strftime("%Z") re-reads TZ, finds the same string, and returns
 * without a syscall. Left unset, TZ means /etc/localtime, which localtime() and mktime()
 * stat again on every call. */
static void warm_time_zone(void)
{
	if (setenv("TZ", "UTC0", 1) != 0)
		return;
	tzset();
	time_t t = 1714557600; /* 2024-05-01T10:00:00Z */
	struct tm tm;
	char text[64];
	if (gmtime_r(&t, &tm))
		strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S %Z", &tm);
	if (localtime_r(&t, &tm)) {
		strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z %z", &tm);
		mktime(&tm);
	}
	localtime(&t);
	gmtime(&t);
}

void sx_warm_libc(void)
{
	/* Once is enough for qsort: glibc caches what it asked, and a zygote's children
	 * inherit the cache with the rest of its memory. */
	static bool sorted;
	if (!sorted) {
		/* More than 1 KiB of elements: the path that asks sysconf and caches it. */
		int v[1024];
		for (int i = 0; i < 1024; i++)
			v[i] = 1024 - i;
		qsort(v, 1024, sizeof v[0], compare_ints);
		sorted = true;
	}
	/* Every call: TZ is set again (a zygote unsets it so that its children start with an
	 * empty environment), and glibc, already holding this TZ's zone, reads no file. */
	warm_time_zone();
}
