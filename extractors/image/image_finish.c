/* image_finish.c: pixel cap, thumbnail target and the final hand-over, shared by the
 * JPEG and PNG decoders (a leaf: it never calls back into them). */
#include "image_finish.h"

#include <stdlib.h>
#include <string.h>

#include "sx_scale.h"
#include "sx_size.h"

enum sx_status check_pixel_cap(const struct sx_request *req, uint32_t w, uint32_t h,
			       struct sx_result *result)
{
	if (w == 0 || h == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "image has a zero dimension");
	if ((uint64_t)w * h > req->max_pixels)
		return sx_fail(result, SX_ERR_LIMIT, "%ux%u image exceeds the cap of %llu pixels",
			       w, h, (unsigned long long)req->max_pixels);
	return SX_OK;
}

void thumbnail_target(const struct sx_request *req, uint32_t w, uint32_t h, int orientation,
		      uint32_t *tw, uint32_t *th)
{
	sx_fit_box_oriented(w, h, req->box_w, req->box_h, sx_orientation_swaps(orientation), tw,
			    th);
}

enum sx_status finish_image(const struct sx_request *req, uint8_t *rgba, uint32_t w, uint32_t h,
			    uint32_t src_w, uint32_t src_h, int orientation,
			    struct sx_result *result)
{
	if (req->mode == SX_MODE_THUMBNAIL) {
		/* From the source size: the decoder's reduced size would round differently. */
		uint32_t tw, th;
		thumbnail_target(req, src_w, src_h, orientation, &tw, &th);
		if (tw != w || th != h) {
			uint8_t *scaled = sx_downscale_rgba(rgba, w, h, tw, th);
			free(rgba);
			if (!scaled)
				return sx_fail(result, SX_ERR_NO_MEMORY,
					       "no memory to scale to %ux%u", tw, th);
			rgba = scaled;
			w = tw;
			h = th;
		}
	}
	return sx_finish_rgba(req, rgba, w, h, orientation, result);
}

bool image_rows_rgb_ok(const struct sx_request *req, int orientation)
{
	return req->mode == SX_MODE_FULL && (req->channels == 3 || req->channels == 0) &&
	       (orientation < 2 || orientation > 8);
}

enum sx_status image_rows_open(const struct sx_request *req, struct image_rows *rows, uint32_t w,
			       uint32_t h, uint32_t cap, uint32_t src_w, uint32_t src_h,
			       int orientation, unsigned channels, struct sx_result *result)
{
	memset(rows, 0, sizeof *rows);
	rows->channels = channels == 3 && image_rows_rgb_ok(req, orientation) ? 3 : 4;
	if (channels != rows->channels)
		return sx_fail(result, SX_ERR_INTERNAL, "RGB rows where RGBA is needed");
	rows->w = w;
	rows->h = h;
	rows->cap = cap < w ? w : cap;
	rows->orientation = orientation;
	rows->out_w = w;
	rows->out_h = h;
	if (req->mode == SX_MODE_THUMBNAIL) {
		uint32_t tw, th;
		thumbnail_target(req, src_w, src_h, orientation, &tw, &th);
		if (tw != w || th != h) {
			rows->scaler = sx_scaler_new(w, h, tw, th);
			if (!rows->scaler)
				return sx_fail(result, SX_ERR_NO_MEMORY,
					       "no memory to scale %ux%u to %ux%u", w, h, tw, th);
			rows->out_w = tw;
			rows->out_h = th;
		}
	}
	size_t bytes, row_bytes;
	if (!sx_mul_size(rows->cap, rows->channels, &row_bytes) ||
	    !sx_mul3_size(w, h, rows->channels, &bytes))
		return sx_fail(result, SX_ERR_LIMIT, "a %ux%u image is too large", w, h);
	if (rows->scaler || rows->cap != w)
		rows->row = malloc(row_bytes);
	if (!rows->scaler)
		rows->pixels = malloc(bytes);
	if ((!rows->scaler && !rows->pixels) || ((rows->scaler || rows->cap != w) && !rows->row))
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image", w, h);
	return SX_OK;
}

uint8_t *image_rows_next(struct image_rows *rows)
{
	if (rows->row)
		return rows->row;
	uint32_t y = rows->y < rows->h ? rows->y : rows->h - 1;
	return rows->pixels + (size_t)y * rows->w * rows->channels;
}

void image_rows_commit(struct image_rows *rows)
{
	if (rows->y >= rows->h)
		return;
	if (rows->scaler)
		sx_scaler_push(rows->scaler, rows->row);
	else if (rows->row)
		memcpy(rows->pixels + (size_t)rows->y * rows->w * rows->channels, rows->row,
		       (size_t)rows->w * rows->channels);
	rows->y++;
}

enum sx_status image_rows_finish(const struct sx_request *req, struct image_rows *rows,
				 struct sx_result *result)
{
	if (rows->y != rows->h)
		return sx_fail(result, SX_ERR_INTERNAL, "%u of %u rows decoded", rows->y, rows->h);
	if (rows->scaler) {
		rows->pixels = sx_scaler_finish(rows->scaler);
		if (!rows->pixels)
			return sx_fail(result, SX_ERR_INTERNAL, "the scaler lost rows");
	}
	uint8_t *pixels = rows->pixels;
	rows->pixels = NULL; /* handed over, or sx_finish_rgba takes it, success or not */
	if (rows->channels == 3) {
		result->image.width = rows->out_w;
		result->image.height = rows->out_h;
		result->image.channels = 3;
		result->image.pixels = pixels;
		result->kind = SX_RESULT_IMAGE;
		return SX_OK;
	}
	return sx_finish_rgba(req, pixels, rows->out_w, rows->out_h, rows->orientation, result);
}

void image_rows_close(struct image_rows *rows)
{
	sx_scaler_free(rows->scaler);
	free(rows->pixels);
	free(rows->row);
	memset(rows, 0, sizeof *rows);
}
