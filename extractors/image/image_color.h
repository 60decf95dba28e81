/* image_color.h: colour as viewers show it: a decoded image's embedded ICC profile, or the
 * colour description of its container (PNG sRGB, gAMA, cHRM; later WebP ICCP, HEIF colr),
 * turned into a LittleCMS (lcms2) transform to sRGB, applied to the decoded pixels before
 * any scaling. Every sx-image decoder calls it the same way:
 *
 *     struct color_plan plan;
 *     color_plan_open(&plan, &source, layout, build);     // inspect, maybe build
 *     color_describe(&plan, &result->meta);                // --probe
 *     color_apply(&plan, in, out, pixels);                 // when color_plan_converts()
 *     color_plan_close(&plan);
 *
 * Phases:
 * - color_prepare() before the strict line only (the family's `prepare`): lcms2's
 *   allocator plugin (all of lcms2's memory through malloc, i.e. the pool, and capped at
 *   SX_COLOR_LCMS_MEMORY_MAX), its silent error handler, the built-in sRGB profile, a
 *   template RGB profile for container-described colour (lcms2 stamps new profiles with
 *   time(), a clock read, so none is created after the line), and one transform of every
 *   kind color_apply() runs, so nothing in lcms2 is first reached after the line.
 * - Everything else is decode-core code (no syscalls, memory through malloc): after the
 *   line, or in-process in tests and fuzz harnesses. Not thread-safe (one extraction at
 *   a time per process, as everywhere in the decode core).
 *
 * Failure policy: the profile is untrusted input. A profile that is too large, malformed,
 * of the wrong colour space for the image, of an unusable class, or one lcms2 cannot
 * build a transform from never fails the image: the plan says "ignored" with a short
 * reason and the image decodes as untagged. Only an out-of-memory while converting
 * pixels is an error. No profile byte leaves the extractor: the probe reports the
 * profile's colour space and a bounded, printable description, nothing else.
 *
 * Memory: the caller owns the profile bytes and the pixels; the plan owns its transform
 * until color_plan_close(), which is safe to call on any opened plan, unless the
 * transform is one of color_cache_build()'s (shared: owned by this file, never freed).
 */
#ifndef IMAGE_COLOR_H
#define IMAGE_COLOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sx_extract.h"

/* The colour model of the decoded pixels. */
enum color_space {
	COLOR_SPACE_GRAY,
	COLOR_SPACE_RGB,
	COLOR_SPACE_CMYK,
};

/* How the decoded pixels the transform reads are laid out. Output is always 8-bit RGBA. */
enum color_layout {
	COLOR_LAYOUT_RGBA8,	     /* 4 bytes; grey sources replicated into R, G and B */
	COLOR_LAYOUT_RGBA16,	     /* 4 host-order uint16; grey replicated likewise */
	COLOR_LAYOUT_CMYK8,	     /* C, M, Y, K; 0 = no ink */
	COLOR_LAYOUT_CMYK8_INVERTED, /* Adobe's stored CMYK: 255 = no ink */
};

/* What the file says about its colour. Zero-initialise, then fill what is known. */
struct color_source {
	enum color_space space;
	const uint8_t *icc; /* embedded profile bytes (borrowed), or NULL */
	size_t icc_size;
	/* The container found a profile but cannot hand it over (segments missing, libpng
	 * refused it...): reported as "ignored" with this reason (copied; NULL: none). */
	const char *icc_problem;
	bool srgb;	/* an explicit sRGB marker (PNG sRGB chunk) */
	bool has_gamma; /* PNG gAMA: the file gamma, 0.45455 for 1/2.2 */
	double gamma;
	bool has_chrm; /* PNG cHRM: x, y of white, red, green, blue */
	double chrm[8];
	const char *chunks; /* PNG: the colour chunks seen ("iCCP sRGB gAMA cHRM"), or NULL */
	/* CICP (ITU-T H.273), as PNG cICP or HEIF/AVIF nclx carry it: colour primaries,
	 * transfer characteristics, matrix coefficients (0: RGB; a YUV decoder converts first
	 * and passes 0), full-range flag. Used first when supported (primaries 1, 9, 12;
	 * transfers 1, 4, 6, 8, 13, 14, 15); else ignored with a reason and the rest decides. */
	bool has_cicp;
	uint8_t cicp[4];
};

enum color_icc {
	COLOR_ICC_ABSENT,
	COLOR_ICC_PRESENT,
	COLOR_ICC_IGNORED,
};

struct color_plan {
	enum color_icc icc;
	const char *space; /* profile colour space ("rgb", "gray", "cmyk", ...) or NULL */
	char description[SX_COLOR_DESCRIPTION_MAX + 1];
	char ignored[96]; /* reason, when icc == COLOR_ICC_IGNORED */
	const char *chunks;
	char cicp[16];		  /* "P/T/M/R" when the source had CICP */
	const char *cicp_ignored; /* why that CICP is not used (static), or NULL */
	const char *source;	  /* what the transform is built from: "icc", "gama-chrm", ... */
	enum color_layout layout;
	void *transform; /* cmsHTRANSFORM, NULL when no conversion is needed */
	bool shared;	 /* transform is color_cache_build()'s: never deleted by the plan */
};

/* Before the line. false: lcms2 could not be set up (the family answers INTERNAL). */
bool color_prepare(void);

/* Inspects `src` (a profile is parsed, checked and a transform tried, so the probe
 * reports "ignored" exactly when a decode would) and, when `build` and the colour is not
 * sRGB already, keeps the transform from `layout` to 8-bit RGBA sRGB. Never fails: see
 * the top of this file. */
void color_plan_open(struct color_plan *plan, const struct color_source *src,
		     enum color_layout layout, bool build);

/* True when color_apply() must run (a non-sRGB profile or description was usable). */
bool color_plan_converts(const struct color_plan *plan);

/* Converts `pixels` pixels from `in` (plan->layout) to 8-bit RGBA in `out`; `in` may be
 * `out` for the 8-bit layouts. Alpha is kept (RGBA8: untouched; RGBA16: its high byte,
 * as libpng's strip does), CMYK gets opaque alpha. */
void color_apply(const struct color_plan *plan, const void *in, uint8_t *out, size_t pixels);

/* Adds icc, icc_space, icc_description, icc_ignored, png_color_chunks, cicp,
 * cicp_ignored, color_source (PROTOCOL.md). */
void color_describe(const struct color_plan *plan, struct sx_meta *m);

void color_plan_close(struct color_plan *plan);

/* Before the line, in a fork server only (the family's `prepare_server`), after
 * color_prepare(): builds the transforms of the common CICP descriptions (Display P3,
 * BT.709, BT.2020; image_color.c lists them) and runs one pixel through each, so that
 * color_plan_open() hands them out instead of building a transform for each file. They
 * are built exactly as color_plan_open() builds them (same profile, layouts, intent and
 * flags), so answers are bit for bit the same; tests/c/test_color_cache.c compares the
 * two. They live in the pool for the life of the process, and every forked child
 * inherits them. A one-shot process does not call it: building costs more (about 5 ms a
 * transform, 15 ms for 16-bit input) than one file saves. `count`: the first `count`
 * descriptions of the list (most common first; SIZE_MAX: all), as many as the family's
 * inputs make worth a longer fork-server start. false: not every transform could be built
 * (the others are used; the rest are built per file as before). */
bool color_cache_build(size_t count);

/* For tests: how many descriptions color_cache_build() covers, and the i-th of them as a
 * source and layout color_plan_open() looks up (false past the end). */
size_t color_cache_count(void);
bool color_cache_entry(size_t i, struct color_source *src, enum color_layout *layout);

#endif
