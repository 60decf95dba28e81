/* test_scale.c: box fitting, area-averaging downscale and orientation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sx_scale.h"

static void test_fit(void)
{
	uint32_t w, h;
	sx_fit_box(640, 480, 256, 256, &w, &h);
	CHECK(w == 256 && h == 192);
	sx_fit_box(480, 640, 256, 256, &w, &h);
	CHECK(w == 192 && h == 256);
	sx_fit_box(100, 50, 256, 256, &w, &h); /* never enlarged */
	CHECK(w == 100 && h == 50);
	sx_fit_box(10000, 1, 256, 256, &w, &h); /* never below 1 */
	CHECK(w == 256 && h == 1);
	sx_fit_box(4097, 17, 64, 64, &w, &h);
	CHECK(w == 64 && h == 1);
}

static void test_downscale(void)
{
	/* 2x2 -> 1x1 is the mean, with alpha weighting: a transparent red pixel adds no red. */
	uint8_t src[16] = {255, 0, 0, 0, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255};
	uint8_t *out = sx_downscale_rgba(src, 2, 2, 1, 1);
	CHECK(out != NULL);
	CHECK(out[0] == 0 && out[1] == 0 && out[2] == 255);
	CHECK(out[3] == 191); /* (0 + 255 * 3) / 4 = 191.25 */
	free(out);

	/* A flat image stays flat at any ratio. */
	enum { W = 37, H = 23 };
	uint8_t *flat = malloc(W * H * 4);
	for (int i = 0; i < W * H; i++)
		memcpy(flat + i * 4, "\x40\x80\xC0\xFF", 4);
	out = sx_downscale_rgba(flat, W, H, 5, 3);
	CHECK(out != NULL);
	for (int i = 0; out && i < 15; i++)
		CHECK(out[i * 4] == 0x40 && out[i * 4 + 1] == 0x80 && out[i * 4 + 2] == 0xC0 &&
		      out[i * 4 + 3] == 0xFF);
	free(out);

	/* 3 -> 2 columns: the middle column is shared half and half. */
	uint8_t row[12] = {0, 0, 0, 255, 90, 90, 90, 255, 180, 180, 180, 255};
	out = sx_downscale_rgba(row, 3, 1, 2, 1);
	CHECK(out && out[0] == 30 && out[4] == 150);
	free(out);

	CHECK(sx_downscale_rgba(flat, W, H, W + 1, H) == NULL); /* no enlarging */
	free(flat);
}

/* The streaming scaler: a finished image needs exactly sh rows; extra rows are ignored;
 * the rows a decoder pushes give what the whole-image call gives. */
static void test_streaming(void)
{
	enum { W = 11, H = 7 };
	uint8_t src[W * H * 4];
	for (int i = 0; i < W * H * 4; i++)
		src[i] = (uint8_t)(i * 37 + (i >> 3));
	struct sx_scaler *s = sx_scaler_new(W, H, 4, 3);
	CHECK(s != NULL);
	for (int y = 0; s && y < H - 1; y++)
		sx_scaler_push(s, src + y * W * 4);
	CHECK(s && sx_scaler_finish(s) == NULL); /* a row short */
	if (s)
		sx_scaler_push(s, src + (H - 1) * W * 4);
	if (s)
		sx_scaler_push(s, src); /* past the last row: ignored */
	uint8_t *streamed = s ? sx_scaler_finish(s) : NULL;
	CHECK(streamed != NULL);
	CHECK(s && sx_scaler_finish(s) == NULL); /* handed over once */
	sx_scaler_free(s);
	uint8_t *whole = sx_downscale_rgba(src, W, H, 4, 3);
	CHECK(whole && streamed && memcmp(whole, streamed, 4 * 3 * 4) == 0);
	free(whole);
	free(streamed);
	CHECK(sx_scaler_new(W, H, W + 1, H) == NULL);
	CHECK(sx_scaler_new(W, H, 0, 1) == NULL);
	sx_scaler_free(NULL);
}

static void test_orient(void)
{
	/* 3x2 image, pixels numbered 0..5 row by row:  0 1 2 / 3 4 5 */
	uint32_t src[6];
	for (uint32_t i = 0; i < 6; i++)
		src[i] = i;
	static const uint32_t expect[9][6] = {
	    {0},
	    {0, 1, 2, 3, 4, 5},
	    {2, 1, 0, 5, 4, 3}, /* 2: mirror */
	    {5, 4, 3, 2, 1, 0}, /* 3: 180 */
	    {3, 4, 5, 0, 1, 2}, /* 4: flip */
	    {0, 3, 1, 4, 2, 5}, /* 5: transpose */
	    {3, 0, 4, 1, 5, 2}, /* 6: 90 clockwise */
	    {5, 2, 4, 1, 3, 0}, /* 7: transverse */
	    {2, 5, 1, 4, 0, 3}, /* 8: 90 counter-clockwise */
	};
	for (int o = 1; o <= 8; o++) {
		uint32_t *out = (uint32_t *)(void *)sx_orient_rgba((uint8_t *)src, 3, 2, o);
		CHECK(out != NULL);
		if (out)
			CHECK(memcmp(out, expect[o], sizeof src) == 0);
		free(out);
	}
}

int main(void)
{
	test_fit();
	test_downscale();
	test_streaming();
	test_orient();
	return check_exit_status("test_scale");
}
