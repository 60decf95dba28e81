/* sx_selftest.c: a test-only extractor that misbehaves on purpose after the strict line,
 * so every failure path of the client and the sandbox has a real test. Its input names
 * the misbehaviour (see the table in `misbehaviours` below and --help). Never installed. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sx_answer.h"
#include "sx_bytes.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_wire.h"
#include "sx_zygote.h"

#include "seccomp_words.h"

extern char **environ;

static const char summary[] =
    "TEST ONLY. Input is one word naming what to do after the strict line:\n"
    "  ok-meta ok-image            valid answers\n"
    "  open socket mmap exit_group forbidden syscalls (the kernel kills it)\n"
    "  spin                        loop until RLIMIT_CPU kills it\n"
    "  alloc                       allocate until the pool refuses, answer NO_MEMORY\n"
    "  segv                        crash with SIGSEGV\n"
    "  garbage truncated trailing wrong-exit huge-image   malformed answers\n"
    "  env                         report env_count and fds_at_start\n"
    "  readfds                     report which fds 0..63 are readable after the line\n"
    "  stderr-flood                1 MiB to stderr during setup, then like ok-meta\n"
    "  forge-meta stack-grow header-stall canary   hardening review (issue 12), see "
    "below\n"
    "  big-image big-trailing big-short   a 1024x1024 RGBA answer: valid, 5 bytes too "
    "many, half its pixels\n" SELFTEST_SECCOMP_SUMMARY;

static struct sx_result result;
static int env_count;
static char fds_at_start[256];

/* Before setup touches anything: what did the parent hand us? */
static void record_start_state(void)
{
	for (char **e = environ; e && *e; e++)
		env_count++;
	size_t off = 0;
	for (int fd = 0; fd < 1024 && off < sizeof fds_at_start - 8; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			off += (size_t)snprintf(fds_at_start + off, sizeof fds_at_start - off,
						"%s%d", off ? "," : "", fd);
}

static void write_raw(const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(SX_ANSWER_FD, c, n);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void answer_meta(void)
{
	sx_meta_init(&result.meta);
	sx_meta_add_cstring(&result.meta, "format", "selftest");
	sx_meta_add_int(&result.meta, "env_count", env_count);
	sx_meta_add_cstring(&result.meta, "fds_at_start", fds_at_start);
	sx_answer_meta(SX_ANSWER_FD, &result.meta);
}

/* ---- Behaviours of the adversarial review (issue 12) ----------------------------------
 * forge-meta    metadata whose keys are the CLI's own record keys (file, error, status,
 *               detail, metadata): they must never overwrite what the client says.
 * stack-grow    touch every page down to 600 MiB below the stack pointer: RLIMIT_STACK must
 *               stop it (SIGSEGV) long before, whatever limit the parent had.
 * header-stall  a 12-byte header announcing the largest full-size RGBA image the default
 *               request allows (64 Mi pixels), then nothing until the wall-clock kill: the
 *               client must not commit that memory before the pixels arrive.
 * canary        report this child's stack canary (%fs:0x28): children of one zygote must
 *               not share it.
 * Each returns an exit code, or -1 when `word` is none of them. */
#define STACK_GROW_BYTES ((uintptr_t)600 << 20)

static int answer_forged_meta(void)
{
	sx_meta_init(&result.meta);
	sx_meta_add_cstring(&result.meta, "format", "selftest");
	sx_meta_add_cstring(&result.meta, "file", "/forged/another-upload.jpg");
	sx_meta_add_cstring(&result.meta, "error", "bad_input");
	sx_meta_add_int(&result.meta, "status", 1);
	sx_meta_add_cstring(&result.meta, "detail", "forged by the extractor");
	sx_meta_add_cstring(&result.meta, "metadata", "forged");
	/* What sx-lua always sends, so that the test can pose as it (LuaInfo requires it). */
	sx_meta_add_bool(&result.meta, "valid", true);
	return sx_answer_meta(SX_ANSWER_FD, &result.meta) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER;
}

static int grow_stack(void)
{
	volatile uint8_t here = 0;
	uintptr_t sp = (uintptr_t)&here;
	/* Page by page, as a deep recursion would: each fault extends the stack mapping. */
	for (uintptr_t off = 4096; off <= STACK_GROW_BYTES; off += 4096)
		*(volatile uint8_t *)(sp - off) = 1;
	sx_meta_init(&result.meta);
	sx_meta_add_cstring(&result.meta, "format", "selftest");
	sx_meta_add_int(&result.meta, "stack_mib", (int64_t)(STACK_GROW_BYTES >> 20));
	return sx_answer_meta(SX_ANSWER_FD, &result.meta) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER;
}

static noreturn void stall_after_header(void)
{
	/* SXAN, this wire version, type image, payload 12 + 8192 * 8192 * 4 bytes. */
	static const uint8_t head[] = {'S', 'X', 'A', 'N', SX_WIRE_VERSION, 0, 3, 0,
				       12,  0,	 0,   0x10};
	write_raw(head, sizeof head);
	for (volatile unsigned long i = 0;; i++)
		;
}

static int misbehave_hardening(const char *word)
{
	if (!strcmp(word, "forge-meta"))
		return answer_forged_meta();
	if (!strcmp(word, "stack-grow"))
		return grow_stack();
	if (!strcmp(word, "header-stall"))
		stall_after_header();
	if (!strcmp(word, "canary")) {
		uint64_t canary = 0;
#if defined(__x86_64__)
		__asm__ volatile("movq %%fs:0x28, %0" : "=r"(canary));
#endif
		char hex[17];
		for (int i = 15; i >= 0; i--, canary >>= 4)
			hex[i] = "0123456789abcdef"[canary & 15];
		hex[16] = '\0';
		sx_meta_init(&result.meta);
		sx_meta_add_cstring(&result.meta, "format", "selftest");
		sx_meta_add_cstring(&result.meta, "canary", hex);
		return sx_answer_meta(SX_ANSWER_FD, &result.meta) ? SX_EXIT_RESULT
								  : SX_EXIT_NO_ANSWER;
	}
	return -1;
}

/* ---- Large answers (issue 21) ---------------------------------------------------------
 * The client copies small answers and maps large ones (over 1 MiB) from its answer file:
 * these give the mapped path its valid, trailing and truncated cases. The pixels are
 * (x + 2 * y + c) & 255 for channel c of pixel (x, y). -1 when `word` is none of them. */
#define BIG_SIDE 1024u

static int misbehave_big(const char *word)
{
	static uint8_t pixels[BIG_SIDE * BIG_SIDE * 4];
	bool trailing = !strcmp(word, "big-trailing"), shortened = !strcmp(word, "big-short");
	if (!trailing && !shortened && strcmp(word, "big-image") != 0)
		return -1;
	for (uint32_t y = 0; y < BIG_SIDE; y++)
		for (uint32_t x = 0; x < BIG_SIDE; x++)
			for (uint32_t c = 0; c < 4; c++)
				pixels[(y * BIG_SIDE + x) * 4 + c] = (uint8_t)(x + 2 * y + c);
	if (shortened) {
		/* The header of the whole image, then half of its pixels. */
		uint8_t head[SX_WIRE_HEADER_BYTES + SX_WIRE_IMAGE_FIXED_BYTES] = {'S', 'X', 'A',
										  'N'};
		sx_put_le16(head + 4, SX_WIRE_VERSION);
		sx_put_le16(head + 6, SX_WIRE_TYPE_IMAGE);
		sx_put_le32(head + 8, SX_WIRE_IMAGE_FIXED_BYTES + sizeof pixels);
		sx_put_le32(head + 12, BIG_SIDE);
		sx_put_le32(head + 16, BIG_SIDE);
		head[20] = 4;
		write_raw(head, sizeof head);
		write_raw(pixels, sizeof pixels / 2);
		return SX_EXIT_RESULT;
	}
	struct sx_image im = {BIG_SIDE, BIG_SIDE, 4, pixels};
	if (!sx_answer_image(SX_ANSWER_FD, &im))
		return SX_EXIT_NO_ANSWER;
	if (trailing)
		write_raw("extra", 5);
	return SX_EXIT_RESULT;
}

static int misbehave(const char *word)
{
	int code = misbehave_hardening(word);
	if (code < 0)
		code = misbehave_big(word);
	if (code >= 0)
		return code;

	static uint8_t pixels[2 * 2 * 4] = {255, 0, 0,	 255, 0,   255, 0,   255,
					    0,	 0, 255, 255, 255, 255, 255, 128};
	int seccomp_exit = selftest_seccomp_word(word);
	if (seccomp_exit >= 0)
		return seccomp_exit;
	if (!strcmp(word, "ok-meta") || !strcmp(word, "env") || !strcmp(word, "stderr-flood")) {
		answer_meta();
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "ok-image")) {
		struct sx_image im = {2, 2, 4, pixels};
		return sx_answer_image(SX_ANSWER_FD, &im) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER;
	}
	if (!strcmp(word, "open"))
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	if (!strcmp(word, "socket"))
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (!strcmp(word, "mmap"))
		syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (!strcmp(word, "exit_group"))
		syscall(SYS_exit_group, 0);
	if (!strcmp(word, "spin"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (!strcmp(word, "alloc")) {
		size_t total = 0;
		for (void *p; (p = malloc(1 << 20)) != NULL; total += 1 << 20)
			memset(p, 1, 1 << 20);
		sx_fail(&result, SX_ERR_NO_MEMORY, "pool refused after %zu MiB", total >> 20);
		return sx_answer_error(SX_ANSWER_FD, SX_ERR_NO_MEMORY, result.detail)
			   ? SX_EXIT_ERROR
			   : SX_EXIT_NO_ANSWER;
	}
	if (!strcmp(word, "segv")) {
		volatile uintptr_t bad = 8;
		*(volatile int *)bad = 1;
	}
	if (!strcmp(word, "garbage")) {
		uint32_t x = 12345;
		for (int i = 0; i < 4096; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t b = (uint8_t)(x >> 16);
			write_raw(&b, 1);
		}
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "truncated")) {
		static const uint8_t head[] = {
		    'S', 'X', 'A', 'N', SX_WIRE_VERSION, 0, 2, 0, 100, 0, 0, 0, 1, 0, 1};
		write_raw(head, sizeof head);
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "trailing")) {
		answer_meta();
		write_raw("extra", 5);
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "wrong-exit")) {
		sx_answer_error(SX_ANSWER_FD, SX_ERR_BAD_INPUT, "error message with exit 0");
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "huge-image")) {
		static const uint8_t head[] = {'S',  'X',  'A',	 'N',  SX_WIRE_VERSION,
					       0,    3,	   0,	 0xFF, 0xFF,
					       0xFF, 0xFF, 0xA0, 0x86, 0x01,
					       0,    0xA0, 0x86, 0x01, 0,
					       4,    0,	   0,	 0};
		write_raw(head, sizeof head);
		write_raw(pixels, sizeof pixels);
		return SX_EXIT_RESULT;
	}
	if (!strcmp(word, "readfds")) {
		char readable[256] = "";
		size_t off = 0;
		for (int fd = 0; fd < 64; fd++) {
			char c;
			/* read(2) is allowed in strict mode; on a closed fd it just fails. */
			if (read(fd, &c, 0) >= 0 && off < sizeof readable - 8)
				off += (size_t)snprintf(readable + off, sizeof readable - off,
							"%s%d", off ? "," : "", fd);
		}
		sx_meta_init(&result.meta);
		sx_meta_add_cstring(&result.meta, "format", "selftest");
		sx_meta_add_cstring(&result.meta, "readable_fds", readable);
		return sx_answer_meta(SX_ANSWER_FD, &result.meta) ? SX_EXIT_RESULT
								  : SX_EXIT_NO_ANSWER;
	}
	sx_fail(&result, SX_ERR_BAD_REQUEST, "unknown selftest word '%.32s'", word);
	return sx_answer_error(SX_ANSWER_FD, SX_ERR_BAD_REQUEST, result.detail) ? SX_EXIT_ERROR
										: SX_EXIT_NO_ANSWER;
}

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;
	char word[32] = "";

	/* With --server FD: a zygote; each request returns here in a fresh child. */
	sx_zygote_serve_if_asked(&argc, &argv, NULL);
	record_start_state();
	/* stderr-flood has to happen before setup closes fd 2, so peek at a file input. */
	char peek[16] = "";
	if (pread(0, peek, sizeof peek - 1, 0) > 0 && strncmp(peek, "stderr-flood", 12) == 0) {
		static char block[4096];
		memset(block, 'E', sizeof block);
		for (int i = 0; i < 256; i++)
			if (write(2, block, sizeof block) < 0)
				break;
	}
	enum sx_status status = sx_setup(argc, argv, "sx-selftest", summary, &req, &in, &result);
	if (status == SX_OK) {
		size_t n = 0;
		while (n < in.size && n < sizeof word - 1 && in.data[n] > ' ')
			n++;
		memcpy(word, in.data, n);
		if (!selftest_seccomp_prepare(word))
			status = sx_fail(&result, SX_ERR_INTERNAL, "cannot prepare '%s'", word);
	}

	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	if (status != SX_OK)
		sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
	sx_exit(misbehave(word));
}
