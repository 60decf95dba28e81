/* image_core.c: the sx-image decode core: sniff, dispatch, and the shared finish step. */
#include "image_core.h"

#include <stdlib.h>

#include "image_internal.h"
#include "sx_scale.h"

enum sx_status check_pixel_cap(const struct sx_request *req, uint32_t w, uint32_t h,
			       struct sx_result *result)
{
	if (w == 0 || h == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "image has a zero dimension");
	if ((uint64_t)w * h > req->max_pixels)
		return sx_fail(result, SX_ERR_LIMIT, "%ux%u image exceeds the cap of %llu pixels", w, h,
			       (unsigned long long)req->max_pixels);
	return SX_OK;
}

void thumbnail_target(const struct sx_request *req, uint32_t w, uint32_t h, int orientation,
		      uint32_t *tw, uint32_t *th)
{
	/* The box applies to the upright image: fit the oriented size, then swap back. */
	int swap = sx_orientation_swaps(orientation);
	uint32_t ow, oh;
	sx_fit_box(swap ? h : w, swap ? w : h, req->box_w, req->box_h, &ow, &oh);
	*tw = swap ? oh : ow;
	*th = swap ? ow : oh;
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
				return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to scale to %ux%u", tw, th);
			rgba = scaled;
			w = tw;
			h = th;
		}
	}
	return sx_finish_rgba(req, rgba, w, h, orientation, result);
}

enum sx_status sx_image_extract(const struct sx_request *req, const uint8_t *data, size_t size,
				struct sx_result *result)
{
	const char *what;
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	switch (sniff_image_format(data, size, &what)) {
	case IMAGE_FORMAT_JPEG: return jpeg_extract(req, data, size, result);
	case IMAGE_FORMAT_PNG: return png_extract(req, data, size, result);
	case IMAGE_FORMAT_UNKNOWN: break;
	}
	return sx_fail(result, SX_ERR_UNSUPPORTED, "not a JPEG or PNG file (looks like %s)", what);
}
