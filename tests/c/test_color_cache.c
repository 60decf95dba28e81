/* test_color_cache.c: the transforms color_cache_build() prebuilds for a fork server give,
 * bit for bit, what a transform built per file gives (a one-shot process, or before the
 * cache exists), for every cached description, and the plan neither rebuilds nor frees
 * them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "image_color.h"

/* Every 8-bit RGB value once (alpha varying), or for 16-bit input 2^22 pixels of a
 * fixed pseudo-random sequence plus the extremes. */
enum { PIXELS8 = 1 << 24, PIXELS16 = 1 << 22 };

static void fill8(uint8_t *p)
{
	for (uint32_t i = 0; i < PIXELS8; i++) {
		p[i * 4] = (uint8_t)(i >> 16);
		p[i * 4 + 1] = (uint8_t)(i >> 8);
		p[i * 4 + 2] = (uint8_t)i;
		p[i * 4 + 3] = (uint8_t)(i * 7);
	}
}

static void fill16(uint16_t *p)
{
	uint64_t x = 0x9E3779B97F4A7C15u;
	for (uint32_t i = 0; i < PIXELS16 * 4u; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint16_t)(x >> 21);
	}
	for (int c = 0; c < 4; c++) {
		p[c] = 0;
		p[4 + c] = 0xFFFF;
	}
}

/* Opens a plan for the description and converts the first `n` pixels of the fixed input;
 * returns the 8-bit RGBA answer (malloc'd) and whether the plan's transform was the shared
 * one. */
static uint8_t *convert(const struct color_source *src, enum color_layout layout, size_t n,
			bool *shared)
{
	size_t full = layout == COLOR_LAYOUT_RGBA16 ? PIXELS16 : PIXELS8;
	size_t in_size = full * (layout == COLOR_LAYOUT_RGBA16 ? 8 : 4);
	uint8_t *in = malloc(in_size), *out = malloc(n * 4);
	if (!in || !out)
		abort();
	if (layout == COLOR_LAYOUT_RGBA16)
		fill16((uint16_t *)(void *)in);
	else
		fill8(in);
	struct color_plan plan;
	color_plan_open(&plan, src, layout, true);
	CHECK(strcmp(plan.source, "cicp") == 0);
	CHECK(plan.cicp_ignored == NULL);
	CHECK(color_plan_converts(&plan));
	*shared = plan.shared;
	/* In place for 8-bit input, as the decoders call it (lcms2 leaves alpha alone). */
	if (layout == COLOR_LAYOUT_RGBA8)
		memcpy(out, in, n * 4);
	color_apply(&plan, layout == COLOR_LAYOUT_RGBA8 ? (const void *)out : in, out, n);
	color_plan_close(&plan);
	CHECK(plan.transform == NULL && !plan.shared);
	free(in);
	return out;
}

int main(void)
{
	CHECK(color_prepare());
	size_t count = color_cache_count();
	CHECK(count >= 4);
	uint8_t **before = calloc(count, sizeof *before);
	struct color_source src;
	enum color_layout layout;
	bool shared, p3_8bit = false;
	/* Per file first (no cache yet), then through the cache. */
	for (size_t i = 0; i < count; i++) {
		CHECK(color_cache_entry(i, &src, &layout));
		size_t n = layout == COLOR_LAYOUT_RGBA16 ? PIXELS16 : PIXELS8;
		before[i] = convert(&src, layout, n, &shared);
		CHECK(!shared);
		p3_8bit = p3_8bit ||
			  (src.cicp[0] == 12 && src.cicp[1] == 13 && layout == COLOR_LAYOUT_RGBA8);
	}
	CHECK(p3_8bit); /* the iPhone's description is among them */
	CHECK(!color_cache_entry(count, &src, &layout));
	/* The first description only (sx-image's server), then the rest. */
	CHECK(color_cache_build(1));
	struct color_plan first, second;
	CHECK(color_cache_entry(0, &src, &layout));
	color_plan_open(&first, &src, layout, true);
	CHECK(color_cache_entry(1, &src, &layout));
	color_plan_open(&second, &src, layout, true);
	CHECK(first.shared && !second.shared && color_plan_converts(&second));
	color_plan_close(&first);
	color_plan_close(&second);
	CHECK(color_cache_build(SIZE_MAX));
	/* Every input again; then a second time on a few pixels: closing a plan must not
	 * have freed the shared transform. */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < count; i++) {
			CHECK(color_cache_entry(i, &src, &layout));
			size_t n = layout == COLOR_LAYOUT_RGBA16 ? PIXELS16 : PIXELS8;
			if (round)
				n = 4096;
			uint8_t *after = convert(&src, layout, n, &shared);
			CHECK(shared);
			CHECK(memcmp(before[i], after, n * 4) == 0);
			free(after);
		}
	/* Transfers that share a curve share the transform; a description not cached, and a
	 * plan not asked to build, get none of the shared ones. */
	memset(&src, 0, sizeof src);
	src.space = COLOR_SPACE_RGB;
	src.has_cicp = true;
	src.cicp[0] = 1;
	src.cicp[1] = 6;
	src.cicp[3] = 1;
	struct color_plan plan;
	color_plan_open(&plan, &src, COLOR_LAYOUT_RGBA8, true);
	CHECK(plan.shared);
	color_plan_close(&plan);
	src.cicp[1] = 8;
	color_plan_open(&plan, &src, COLOR_LAYOUT_RGBA8, true);
	CHECK(!plan.shared && color_plan_converts(&plan));
	color_plan_close(&plan);
	src.cicp[1] = 6;
	color_plan_open(&plan, &src, COLOR_LAYOUT_RGBA8, false);
	CHECK(!plan.shared && !color_plan_converts(&plan) && strcmp(plan.source, "cicp") == 0);
	color_plan_close(&plan);
	for (size_t i = 0; i < count; i++)
		free(before[i]);
	free(before);
	return check_exit_status("test_color_cache");
}
