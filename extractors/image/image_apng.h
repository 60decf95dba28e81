/* image_apng.h: APNG frames for --frames requests (image_apng.c); still PNGs and the other
 * modes stay with png_decode.c.
 *
 * Phase: decode-core code (no syscalls, memory through malloc).
 */
#ifndef IMAGE_APNG_H
#define IMAGE_APNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image_internal.h"

/* An acTL chunk comes before the first IDAT (the chunk walk stops at a length that does not
 * fit): the file is an animation for --frames. */
bool apng_is_animated(const uint8_t *data, size_t size);

/* The --frames answer of an APNG: up to req->frames composited frames (SX_RESULT_FRAMES). */
enum sx_status apng_frames(const struct sx_request *req, const uint8_t *data, size_t size,
			   struct sx_result *result);

#endif
