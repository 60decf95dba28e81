/* image_frames.c: the --frames answer: composited canvases in, one frames buffer out. */
#include "image_frames.h"

#include <stdlib.h>
#include <string.h>

#include "image_finish.h"
#include "sx_scale.h"
#include "sx_size.h"

enum sx_status frames_open(struct frame_sink *sink, const struct sx_request *req, uint32_t w,
			   uint32_t h, int orientation, const struct color_plan *plan,
			   struct sx_result *result)
{
	memset(sink, 0, sizeof *sink);
	sink->req = req;
	sink->canvas_w = w;
	sink->canvas_h = h;
	sink->orientation = orientation;
	sink->plan = plan && color_plan_converts(plan) ? plan : NULL;
	sink->out_w = w;
	sink->out_h = h;
	if (req->mode == SX_MODE_THUMBNAIL)
		thumbnail_target(req, w, h, orientation, &sink->out_w, &sink->out_h);
	uint64_t each = (uint64_t)sink->out_w * sink->out_h; /* at most w * h: under the cap */
	uint64_t max = req->frames ? req->frames : 1;
	if (max > SX_FRAMES_MAX)
		max = SX_FRAMES_MAX;
	if (max > req->max_pixels / each)
		max = req->max_pixels / each;
	if (max == 0)
		max = 1;
	sink->max = (uint32_t)max;
	/* Room for a few frames first, grown as frames come: a request for many frames of a
	 * short animation holds only what it uses. */
	sink->room = 1;
	size_t bytes;
	if (!sx_mul3_size(each, 4, sink->room, &bytes) || !(sink->pixels = malloc(bytes)))
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for %u frames of %ux%u",
			       sink->room, sink->out_w, sink->out_h);
	return SX_OK;
}

bool frames_full(const struct frame_sink *sink)
{
	return sink->count >= sink->max ||
	       (sink->count > 0 && sink->work >= SX_FRAMES_MAX_WORK_PIXELS);
}

enum sx_status frames_add(struct frame_sink *sink, const uint8_t *canvas, uint32_t duration_ms,
			  struct sx_result *result)
{
	if (frames_full(sink))
		return SX_OK;
	size_t canvas_pixels = (size_t)sink->canvas_w * sink->canvas_h;
	size_t out_bytes = (size_t)sink->out_w * sink->out_h * 4;
	if (sink->count == sink->room) {
		uint32_t room = sink->room > sink->max / 2 ? sink->max : sink->room * 2;
		/* room * out_bytes is at most max_pixels * 4: no overflow. */
		uint8_t *grown = realloc(sink->pixels, out_bytes * room);
		if (!grown)
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for %u frames of %ux%u",
				       room, sink->out_w, sink->out_h);
		sink->pixels = grown;
		sink->room = room;
	}
	uint8_t *dst = sink->pixels + out_bytes * sink->count;
	uint8_t *converted = NULL;
	const uint8_t *src = canvas;
	if (sink->plan) {
		if (!(converted = malloc(canvas_pixels * 4)))
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u frame",
				       sink->canvas_w, sink->canvas_h);
		color_apply(sink->plan, canvas, converted, canvas_pixels);
		src = converted;
	}
	if (sink->out_w == sink->canvas_w && sink->out_h == sink->canvas_h) {
		memcpy(dst, src, out_bytes);
	} else {
		uint8_t *scaled = sx_downscale_rgba(src, sink->canvas_w, sink->canvas_h,
						    sink->out_w, sink->out_h);
		if (!scaled) {
			free(converted);
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to scale to %ux%u",
				       sink->out_w, sink->out_h);
		}
		memcpy(dst, scaled, out_bytes);
		free(scaled);
	}
	free(converted);
	result->durations[sink->count++] = duration_ms;
	sink->work += canvas_pixels;
	return SX_OK;
}

static bool all_opaque(const uint8_t *rgba, size_t pixels)
{
	for (size_t i = 0; i < pixels; i++)
		if (rgba[i * 4 + 3] != 255)
			return false;
	return true;
}

enum sx_status frames_close(struct frame_sink *sink, uint32_t loop_count, struct sx_result *result)
{
	if (sink->count == 0) {
		frames_discard(sink);
		return sx_fail(result, SX_ERR_BAD_INPUT, "the animation has no frame");
	}
	uint32_t w = sink->out_w, h = sink->out_h;
	size_t each = (size_t)w * h;
	if (sink->orientation >= 2 && sink->orientation <= 8) {
		for (uint32_t i = 0; i < sink->count; i++) {
			uint8_t *frame = sink->pixels + each * 4 * i;
			uint8_t *turned = sx_orient_rgba(frame, w, h, sink->orientation);
			if (!turned) {
				frames_discard(sink);
				return sx_fail(result, SX_ERR_NO_MEMORY,
					       "no memory to turn the frames upright");
			}
			memcpy(frame, turned, each * 4);
			free(turned);
		}
		if (sx_orientation_swaps(sink->orientation)) {
			w = sink->out_h;
			h = sink->out_w;
		}
	}
	unsigned channels = sink->req->channels;
	if (channels == 0)
		channels = all_opaque(sink->pixels, each * sink->count) ? 3 : 4;
	if (channels == 3)
		sx_rgba_to_rgb_in_place(sink->pixels, w, h * sink->count); /* frames are rows */
	result->image.width = w;
	result->image.height = h;
	result->image.channels = channels == 3 ? 3 : 4;
	result->image.pixels = sink->pixels;
	result->frame_count = sink->count;
	result->loop_count = loop_count;
	result->kind = SX_RESULT_FRAMES;
	sink->pixels = NULL;
	return SX_OK;
}

void frames_discard(struct frame_sink *sink)
{
	free(sink->pixels);
	sink->pixels = NULL;
}

void frames_from_image(struct sx_result *result)
{
	result->kind = SX_RESULT_FRAMES;
	result->frame_count = 1;
	result->loop_count = 1;
	result->durations[0] = 0;
}
