/* image_finish.h: the steps every sx-image decoder shares around its decode: the pixel
 * cap before allocating, the thumbnail target, and the hand-over of decoded RGBA.
 *
 * Phase: decode-core code (no syscalls, memory through malloc), before or after the line.
 * A leaf: it calls into common/ only, never back into a decoder or the dispatcher.
 */
#ifndef IMAGE_FINISH_H
#define IMAGE_FINISH_H

#include <stdbool.h>
#include <stdint.h>

#include "sx_extract.h"

/* SX_ERR_LIMIT (with detail) when w * h exceeds the request's pixel cap; SX_ERR_BAD_INPUT
 * for a zero dimension. */
enum sx_status check_pixel_cap(const struct sx_request *req, uint32_t w, uint32_t h,
			       struct sx_result *result);

/* The box, in the image's stored orientation, that a thumbnail of a w x h image with EXIF
 * `orientation` must fill. */
void thumbnail_target(const struct sx_request *req, uint32_t w, uint32_t h, int orientation,
		      uint32_t *tw, uint32_t *th);

/* Turns decoded RGBA (w x h, stored orientation, owned: taken over and freed) of a source
 * image of src_w x src_h (larger than w x h when the decoder scaled already) into the
 * answer: scaled to the thumbnail target of the source size when req->mode is thumbnail,
 * orientation applied, alpha dropped for RGB. On SX_OK result->image holds the pixels. */
enum sx_status finish_image(const struct sx_request *req, uint8_t *rgba, uint32_t w, uint32_t h,
			    uint32_t src_w, uint32_t src_h, int orientation,
			    struct sx_result *result);

/* True when a decoder whose pixels are all opaque may hand over 3-byte RGB rows instead
 * of RGBA (image_rows_open with channels 3): a full decode answered as RGB (--rgb, or
 * --auto-alpha, which drops an alpha that carries nothing), upright already. The answer
 * is then the rows themselves: no RGBA-to-RGB pass and a quarter less memory. */
bool image_rows_rgb_ok(const struct sx_request *req, int orientation);

/* Decoded rows received one at a time, for decoders that can hand rows over as they come
 * (JPEG, non-interlaced PNG, sx-heif): when the request is a thumbnail smaller than the decoded
 * size the rows go straight into the area-averaging scaler and the decoded image is never
 * held whole; otherwise they are stored. Usage:
 *
 *     struct image_rows rows;
 *     image_rows_open(req, &rows, w, h, cap, src_w, src_h, orientation, 4, result);
 *     for y in 0..h-1:
 *         uint8_t *row = image_rows_next(&rows);   // room for `cap` >= w pixels
 *         ...decode row y into it, convert its colour...
 *         image_rows_commit(&rows);                // its first w pixels are row y
 *     image_rows_finish(req, &rows, result);       // as finish_image()
 *     image_rows_close(&rows);                     // always; after finish or a failure
 *
 * w x h is what the decoder hands on (the padding-free part of a DCT-scaled decode, say),
 * src_w x src_h the source size the thumbnail target comes from, as for finish_image().
 * `channels` is 4 (RGBA), or 3 (RGB, opaque) only when image_rows_rgb_ok() said so. */
struct sx_scaler;
struct image_rows {
	uint32_t w, h, cap, y;
	unsigned channels;
	uint32_t out_w, out_h;
	int orientation;
	struct sx_scaler *scaler; /* NULL: rows are stored in `pixels` */
	uint8_t *pixels;	  /* stored rows (w x h), or the scaled result */
	uint8_t *row;		  /* scratch row of `cap` pixels when not stored in place */
};

enum sx_status image_rows_open(const struct sx_request *req, struct image_rows *rows, uint32_t w,
			       uint32_t h, uint32_t cap, uint32_t src_w, uint32_t src_h,
			       int orientation, unsigned channels, struct sx_result *result);
uint8_t *image_rows_next(struct image_rows *rows);
void image_rows_commit(struct image_rows *rows);
enum sx_status image_rows_finish(const struct sx_request *req, struct image_rows *rows,
				 struct sx_result *result);
void image_rows_close(struct image_rows *rows);

#endif
