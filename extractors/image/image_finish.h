/* image_finish.h: the steps every sx-image decoder shares around its decode: the pixel
 * cap before allocating, the thumbnail target, and the hand-over of decoded RGBA.
 *
 * Phase: decode-core code (no syscalls, memory through malloc), before or after the line.
 * A leaf: it calls into common/ only, never back into a decoder or the dispatcher.
 */
#ifndef IMAGE_FINISH_H
#define IMAGE_FINISH_H

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

#endif
