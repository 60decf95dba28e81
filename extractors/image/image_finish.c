/* image_finish.c: pixel cap, thumbnail target and the final hand-over, shared by the
 * JPEG and PNG decoders (a leaf: it never calls back into them). */
#include "image_finish.h"

#include <stdlib.h>

#include "sx_scale.h"

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
