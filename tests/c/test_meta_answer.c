/* test_meta_answer.c: metadata records and answer messages, byte for byte (PROTOCOL.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sx_answer.h"
#include "sx_meta.h"
#include "sx_wire.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Runs `fn` with its answer going into a pipe and returns what came out. */
static size_t capture(int (*fn)(int fd), uint8_t *out, size_t cap)
{
	int p[2];
	if (pipe(p) != 0)
		return 0;
	fn(p[1]);
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(p[0], out + n, cap - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	return n;
}

static struct sx_meta meta;

static int write_error(int fd)
{
	return sx_answer_error(fd, SX_ERR_LIMIT, "too big");
}

static int write_meta(int fd)
{
	return sx_answer_meta(fd, &meta);
}

static int write_image(int fd)
{
	static uint8_t px[3 * 2 * 3];
	for (size_t i = 0; i < sizeof px; i++)
		px[i] = (uint8_t)i;
	struct sx_image im = {3, 2, 3, px};
	return sx_answer_image(fd, &im);
}

static void test_error(void)
{
	uint8_t buf[512];
	size_t n = capture(write_error, buf, sizeof buf);
	CHECK(n == 12 + 6 + 7);
	CHECK(memcmp(buf, "SXAN\x03\x00\x01\x00", 8) == 0);
	CHECK(le32(buf + 8) == 6 + 7);
	CHECK(le32(buf + 12) == SX_ERR_LIMIT);
	CHECK(buf[16] == 7 && buf[17] == 0);
	CHECK(memcmp(buf + 18, "too big", 7) == 0);
}

static void test_meta(void)
{
	sx_meta_init(&meta);
	CHECK(!sx_meta_ok(&meta)); /* an empty record is not an answer */
	sx_meta_add_cstring(&meta, "format", "png");
	sx_meta_add_int(&meta, "width", -2);
	sx_meta_add_bool(&meta, "has_alpha", true);
	sx_meta_add_float(&meta, "fps", 29.97);
	CHECK(sx_meta_ok(&meta));
	uint8_t buf[512];
	size_t n = capture(write_meta, buf, sizeof buf);
	size_t expect = 12 + 2 + (2 + 6 + 2 + 3) + (2 + 5 + 8) + (2 + 9 + 1) + (2 + 3 + 8);
	CHECK(n == expect);
	CHECK(le32(buf + 8) == expect - 12);
	CHECK(buf[12] == 4 && buf[13] == 0);
	CHECK(buf[14] == 6 && memcmp(buf + 15, "format", 6) == 0 &&
	      buf[21] == SX_WIRE_VTYPE_STRING);
	CHECK(buf[22] == 3 && buf[23] == 0 && memcmp(buf + 24, "png", 3) == 0);
	CHECK(buf[27] == 5 && memcmp(buf + 28, "width", 5) == 0 && buf[33] == SX_WIRE_VTYPE_INT);
	CHECK(le32(buf + 34) == 0xFFFFFFFEu && le32(buf + 38) == 0xFFFFFFFFu);

	/* A broken record is never half-sent. */
	sx_meta_add_int(&meta, "width", 3);
	CHECK(!sx_meta_ok(&meta));
	CHECK(capture(write_meta, buf, sizeof buf) == 0);

	sx_meta_init(&meta);
	sx_meta_add_int(&meta, "Bad-Key", 1);
	CHECK(!sx_meta_ok(&meta));

	/* Invalid UTF-8 becomes '?', long strings are cut to the protocol's cap. */
	sx_meta_init(&meta);
	sx_meta_add_string(&meta, "name", "a\xFF\xC3\xA9z", 5);
	CHECK(sx_meta_ok(&meta));
	CHECK(meta.buf[6] == 5 && memcmp(meta.buf + 8, "a?\xC3\xA9z", 5) == 0);
	static char longs[5000];
	memset(longs, 'x', sizeof longs);
	sx_meta_init(&meta);
	sx_meta_add_string(&meta, "long", longs, sizeof longs);
	CHECK(sx_meta_ok(&meta));
	CHECK((meta.buf[6] | meta.buf[7] << 8) == SX_META_STRING_MAX);
	sx_meta_init(&meta);
	sx_meta_add_float(&meta, "nan", 0.0 / 0.0);
	CHECK(!sx_meta_ok(&meta));
}

static int write_odd_detail(int fd)
{
	return sx_answer_error(fd, SX_ERR_BAD_INPUT, "caf\xC3\xA9\n\x01");
}

static void test_error_detail_is_ascii(void)
{
	uint8_t buf[512];
	size_t n = capture(write_odd_detail, buf, sizeof buf);
	CHECK(n == 12 + 6 + 7);
	CHECK(memcmp(buf + 18, "caf????", 7) == 0);
}

/* A record filled to the brim still makes a payload (count + fields) within the cap. */
static void test_meta_cap(void)
{
	static char s[SX_META_STRING_MAX];
	memset(s, 'x', sizeof s);
	sx_meta_init(&meta);
	char key[8];
	for (unsigned i = 0; i < SX_META_MAX_FIELDS; i++) {
		snprintf(key, sizeof key, "k%u", i);
		sx_meta_add_string(&meta, key, s, sizeof s);
	}
	CHECK(meta.broken); /* 64 x 1 KiB does not fit in 64 KiB */
	sx_meta_init(&meta);
	for (unsigned i = 0; !meta.broken && i < SX_META_MAX_FIELDS; i++) {
		snprintf(key, sizeof key, "k%u", i);
		sx_meta_add_string(&meta, key, s, i < 62 ? sizeof s : 1000);
		if (!meta.broken)
			CHECK(2 + meta.len <= SX_META_MAX_BYTES);
	}
}

static void test_image(void)
{
	uint8_t buf[512];
	size_t n = capture(write_image, buf, sizeof buf);
	CHECK(n == 12 + 12 + 18);
	CHECK(le32(buf + 8) == 12 + 18);
	CHECK(le32(buf + 12) == 3 && le32(buf + 16) == 2 && buf[20] == 3);
	CHECK(buf[21] == 0 && buf[22] == 0 && buf[23] == 0);
	CHECK(buf[24] == 0 && buf[41] == 17);
}

static struct sx_result frames;

static int write_frames(int fd)
{
	return sx_answer_result(fd, SX_OK, &frames);
}

/* Type 4: 20 fixed bytes, then each frame's duration and pixels (version 3). */
static void test_frames(void)
{
	static uint8_t px[2 * 1 * 3 * 3]; /* 3 frames of 2x1 RGB */
	for (size_t i = 0; i < sizeof px; i++)
		px[i] = (uint8_t)(100 + i);
	sx_result_init(&frames);
	frames.kind = SX_RESULT_FRAMES;
	frames.image = (struct sx_image){2, 1, 3, px};
	frames.frame_count = 3;
	frames.loop_count = 7;
	frames.durations[0] = 40;
	frames.durations[1] = 0;
	frames.durations[2] = 70000;
	uint8_t buf[512];
	size_t n = capture(write_frames, buf, sizeof buf);
	CHECK(n == 12 + 20 + 3 * (4 + 6));
	CHECK(memcmp(buf, "SXAN\x03\x00\x04\x00", 8) == 0);
	CHECK(le32(buf + 8) == 20 + 3 * 10);
	CHECK(le32(buf + 12) == 2 && le32(buf + 16) == 1 && buf[20] == 3);
	CHECK(buf[21] == 0 && buf[22] == 0 && buf[23] == 0);
	CHECK(le32(buf + 24) == 3 && le32(buf + 28) == 7);
	CHECK(le32(buf + 32) == 40 && buf[36] == 100 && buf[41] == 105);
	CHECK(le32(buf + 42) == 0 && buf[46] == 106);
	CHECK(le32(buf + 52) == 70000 && buf[56] == 112 && buf[61] == 117);
	/* A count over the cap, or none, is never sent as frames. */
	frames.frame_count = SX_FRAMES_MAX + 1;
	n = capture(write_frames, buf, sizeof buf);
	CHECK(n >= 18 && le32(buf + 12) == SX_ERR_INTERNAL);
	frames.frame_count = 0;
	n = capture(write_frames, buf, sizeof buf);
	CHECK(n >= 18 && le32(buf + 12) == SX_ERR_INTERNAL);
}

int main(void)
{
	test_frames();
	test_error();
	test_meta();
	test_image();
	test_error_detail_is_ascii();
	test_meta_cap();
	return check_exit_status("test_meta_answer");
}
