/* replay_main.c: runs a fuzz harness over files and folders (recursively), without
 * libFuzzer, so CTest can replay every fixture and past crasher in a sanitizer build.
 * Each file is fed behind each of the three request prefixes (fuzz_request.h), so probe,
 * thumbnail and full decode all see it whole. Prints one line per file.
 * With --as-is first, each file is fed once, unchanged: its own first 4 bytes are the
 * request (a fuzz corpus input; fuzz/strict_replay.py uses this). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as in libFuzzer: called once before the first input. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long files_run;
static int as_is;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return perror(path), 1;
	size_t cap = 1 << 16, len = 0, n;
	uint8_t *buf = malloc(cap + FUZZ_PREFIX);
	while (buf && (n = fread(buf + FUZZ_PREFIX + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap + FUZZ_PREFIX);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return fprintf(stderr, "%s: out of memory\n", path), 1;
	for (uint8_t mode = 0; mode < 3 && !as_is; mode++) {
		const uint8_t prefix[FUZZ_PREFIX] = {mode, 63, 47, mode};
		memcpy(buf, prefix, sizeof prefix);
		LLVMFuzzerTestOneInput(buf, len + FUZZ_PREFIX);
	}
	if (as_is)
		LLVMFuzzerTestOneInput(buf + FUZZ_PREFIX, len);
	free(buf);
	files_run++;
	printf("replayed %s\n", path);
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return perror(path), 1;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	DIR *d = opendir(path);
	if (!d)
		return perror(path), 1;
	int failures = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char child[4096];
		snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		failures += replay_path(child);
	}
	closedir(d);
	return failures;
}

int main(int argc, char **argv)
{
	int failures = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--as-is") == 0) {
		as_is = 1;
		first = 2;
	}
	for (int i = first; i < argc; i++)
		failures += replay_path(argv[i]);
	printf("%lu files replayed, %d unreadable\n", files_run, failures);
	return failures ? 1 : 0;
}
