/* sx_extract.h: the request, the result and the one decode-core signature all
 * extractors share.
 *
 * Phase: the decode core runs after the strict line in an extractor, or in-process in
 * tests and fuzz harnesses. It touches only its arguments, makes no syscalls, allocates
 * only through malloc (the pool in extractors), and frees everything it allocated except
 * the pixels it hands back in the result, which sx_result_release() frees.
 */
#ifndef SX_EXTRACT_H
#define SX_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sx_limits.h"
#include "sx_meta.h"
#include "sx_status.h"

enum sx_mode {
	SX_MODE_PROBE = 1,     /* metadata only, no pixels decoded */
	SX_MODE_THUMBNAIL = 2, /* fitted into box_w x box_h, aspect kept, never enlarged */
	SX_MODE_FULL = 3,      /* full size, within max_pixels */
};

/* What image answers do with the file's colour description (--color). */
enum sx_color {
	SX_COLOR_SRGB = 0, /* embedded profile / colour chunks applied: sRGB pixels */
	SX_COLOR_RAW = 1,  /* stored values untouched (the caller colour-manages) */
};

struct sx_request {
	enum sx_mode mode;
	uint32_t box_w, box_h; /* SX_MODE_THUMBNAIL only */
	unsigned channels;     /* 3 (RGB), 4 (RGBA), or 0 (--auto-alpha: RGB when every pixel
				* of the answer is opaque, else RGBA) */
	uint64_t max_pixels;   /* cap on the source image's width * height */
	uint64_t max_input;    /* cap on input bytes */
	uint64_t memory;       /* pool cap in bytes */
	unsigned cpu_seconds;  /* RLIMIT_CPU */
	uint32_t face_index;   /* fonts: face in a collection */
	unsigned font_size;    /* fonts: em size in pixels of the preview; 0: fitted */
	char text[SX_FONT_TEXT_MAX_BYTES + 1]; /* fonts: preview text, validated UTF-8; "" */
	enum sx_color color;		       /* images: --color srgb|raw */
	uint32_t frames;     /* images: --frames N (1..SX_FRAMES_MAX) with --thumbnail or --full: up
			      * to N frames of an animation; 0: one image */
	bool sandbox_report; /* --sandbox-report: answer which sandbox the line entered */
	bool posture_check;  /* --posture-check: cross the line, then make a forbidden call */
};

/* Pixels handed back by a decode core: tightly packed rows, `channels` bytes a pixel,
 * straight alpha. `pixels` was allocated with malloc. */
struct sx_image {
	uint32_t width, height;
	unsigned channels;
	uint8_t *pixels;
};

enum sx_result_kind {
	SX_RESULT_NONE = 0,
	SX_RESULT_META = 1,
	SX_RESULT_IMAGE = 2,
	SX_RESULT_FRAMES = 3, /* image holds frame_count frames of width x height, one after
			       * the other; durations[] and loop_count go with them */
};

struct sx_result {
	enum sx_result_kind kind;
	struct sx_meta meta;
	struct sx_image image;
	uint32_t frame_count, loop_count;  /* SX_RESULT_FRAMES */
	uint32_t durations[SX_FRAMES_MAX]; /* ms, per frame */
	char detail[SX_DETAIL_MAX];	   /* NUL-terminated reason when the status is not SX_OK */
};

/* The decode core of every extractor has this type. `ctx` is the family's warm context
 * (sx_family.h; NULL for a family that needs none). On SX_OK, result->kind says which of
 * meta/image is filled. On an error, result->detail holds a short reason and no pixels are
 * held. `result` must have been prepared with sx_result_init(). */
typedef enum sx_status (*sx_extract_fn)(void *ctx, const struct sx_request *req,
					const uint8_t *data, size_t size, struct sx_result *result);

void sx_result_init(struct sx_result *result);
/* Frees the pixels, if any; the result may be reused after sx_result_init(). */
void sx_result_release(struct sx_result *result);
/* Sets result->detail (truncated to fit) and returns `status`, for one-line error returns. */
enum sx_status sx_fail(struct sx_result *result, enum sx_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
