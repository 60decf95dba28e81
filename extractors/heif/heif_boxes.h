/* heif_boxes.h: a bounded walk over a HEIF/AVIF file's boxes, before libheif sees it, to
 * refuse what libheif 1.15 would only notice after allocating (or never): too many items,
 * properties or references, an image side or area over the caps (every ispe, tiles
 * included), more grid tiles than SX_HEIF_MAX_TILES, tiles whose areas add up to more than
 * SX_HEIF_TILE_AREA_FACTOR times the pixel cap, iloc extents outside the file, derived
 * images of derived images (which is how a reference cycle starts), a pixi with more than
 * SX_HEIF_MAX_CHANNELS channels. It also says what the probe reports from the boxes alone:
 * brands, item count, the primary item's type, a sequence track (moov).
 *
 * Phase: decode-core code (no syscalls, no allocation: fixed arrays in the caller's
 * struct), before or after the line. Not a decoder: it reads box headers and a few
 * fixed fields, and libheif still parses everything itself afterwards.
 */
#ifndef HEIF_BOXES_H
#define HEIF_BOXES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sx_extract.h"

struct heif_layout {
	char major_brand[5];
	bool brand_heic, brand_avif, brand_sequence; /* compatible brands seen */
	bool has_moov;				     /* an image sequence track */
	uint32_t item_count;			     /* iinf entries */
	uint32_t primary_id;
	char primary_type[5]; /* infe item_type of the primary item ("hvc1", "grid"...) */
	uint32_t tiles;	      /* dimg references from the primary item */
	uint64_t extent_bytes;
	/* largest ispe sides among items no dimg starts from (coded images: tiles, thumbnails,
	 * alpha, single images) */
	uint32_t max_coded_w, max_coded_h;
};

/* SX_OK and *out filled, or SX_ERR_LIMIT / SX_ERR_BAD_INPUT / SX_ERR_UNSUPPORTED with a
 * detail in result. `max_pixels` is the request's cap on a picture's area. */
enum sx_status heif_walk(const uint8_t *data, size_t size, uint64_t max_pixels,
			 struct heif_layout *out, struct sx_result *result);

#endif
