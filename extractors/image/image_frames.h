/* image_frames.h: the answer to a --frames N request (wire version 3): up to N composited
 * canvases of an animation, each turned into one picture of the same size (the thumbnail
 * target of the canvas, or the canvas itself for --full) and the same orientation, one after
 * the other in one buffer, with their durations.
 *
 * Phase: decode-core code (no syscalls, memory through malloc). Used by gif_decode.c,
 * webp_decode.c and image_apng.c, which composite; image_core.c wraps a still image's
 * answer as one frame.
 *
 * Caps (sx_limits.h): N is at most SX_FRAMES_MAX (the request parser); frames_open() sizes
 * the answer so that all of its pixels stay within req->max_pixels, and frames_full() also
 * stops once SX_FRAMES_MAX_WORK_PIXELS canvas pixels have gone in. Past a cap the answer has
 * fewer frames, at least one.
 */
#ifndef IMAGE_FRAMES_H
#define IMAGE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "image_color.h"
#include "sx_extract.h"

struct frame_sink {
	const struct sx_request *req;
	uint32_t canvas_w, canvas_h; /* what frames_add() takes */
	uint32_t out_w, out_h;	     /* each frame before orientation */
	int orientation;
	const struct color_plan *plan; /* applied to each canvas when it converts; or NULL */
	uint8_t *pixels;	       /* room frames of out_w x out_h RGBA */
	uint32_t count, room, max;
	uint64_t work; /* canvas pixels taken so far */
};

/* Sizes the sink for canvases of w x h (already under the request's pixel cap) with EXIF
 * `orientation` and allocates its buffer (for a few frames; frames_add() grows it up to the
 * cap). SX_ERR_NO_MEMORY with detail on failure. */
enum sx_status frames_open(struct frame_sink *sink, const struct sx_request *req, uint32_t w,
			   uint32_t h, int orientation, const struct color_plan *plan,
			   struct sx_result *result);

/* True when no more frame may be added (the count asked for, or a cap, is reached). */
bool frames_full(const struct frame_sink *sink);

/* Adds a copy of `canvas` (RGBA, canvas_w x canvas_h, not changed) shown for duration_ms,
 * converted by the plan, then scaled. Does nothing when the sink is full. */
enum sx_status frames_add(struct frame_sink *sink, const uint8_t *canvas, uint32_t duration_ms,
			  struct sx_result *result);

/* Hands the frames to `result` (SX_RESULT_FRAMES): orientation applied, alpha dropped for
 * --rgb (or for --auto-alpha when every pixel of every frame is opaque). BAD_INPUT when no
 * frame was added. The sink's buffer is taken over (or freed) either way. */
enum sx_status frames_close(struct frame_sink *sink, uint32_t loop_count, struct sx_result *result);

/* Frees what an unclosed sink holds (safe on a closed or zeroed one). */
void frames_discard(struct frame_sink *sink);

/* A still image's answer (SX_RESULT_IMAGE in `result`) as a one-frame answer, loop count 1. */
void frames_from_image(struct sx_result *result);

#endif
