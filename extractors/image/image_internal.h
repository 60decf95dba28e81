/* image_internal.h: what the parts of sx-image share (not exported beyond it).
 *
 * Phase: all of these are decode-core code: no syscalls, memory through malloc.
 */
#ifndef IMAGE_INTERNAL_H
#define IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sx_extract.h"

enum image_format {
	IMAGE_FORMAT_UNKNOWN = 0,
	IMAGE_FORMAT_JPEG,
	IMAGE_FORMAT_PNG,
};

/* Looks at magic bytes only. For anything but JPEG/PNG, *what names what it looks like
 * ("GIF", "SVG/XML", "MVG", "PostScript", ...) for the error detail. */
enum image_format sniff_image_format(const uint8_t *data, size_t size, const char **what);

/* EXIF orientation 1..8 from an APP1 payload ("Exif\0\0" + TIFF); 1 when absent/invalid. */
int exif_orientation(const uint8_t *app1, size_t len);

enum sx_status jpeg_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			    struct sx_result *result);
enum sx_status png_extract(const struct sx_request *req, const uint8_t *data, size_t size,
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

/* SX_ERR_LIMIT (with detail) when w * h exceeds the request's pixel cap. */
enum sx_status check_pixel_cap(const struct sx_request *req, uint32_t w, uint32_t h,
			       struct sx_result *result);

#endif
