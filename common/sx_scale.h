/* sx_scale.h: pixel operations shared by the extractors: fitting a box, area-averaging
 * downscale, EXIF orientation, and dropping alpha.
 *
 * Phase: any (pure computation; temporary buffers come from malloc and are freed before
 * returning). Pixels are tightly packed 8-bit RGBA rows with straight alpha.
 * Functions returning a buffer return a new malloc'd one (the caller frees it), or NULL
 * when memory ran out or a size overflowed.
 */
#ifndef SX_SCALE_H
#define SX_SCALE_H

#include <stdint.h>

#include "sx_status.h"

/* The size of a w x h image fitted into a box_w x box_h box: aspect kept, at least 1x1,
 * never larger than the image itself. */
void sx_fit_box(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, uint32_t *out_w,
		uint32_t *out_h);

/* sx_fit_box() for a picture shown turned a quarter when `swap` is set (EXIF 5..8, a
 * 90/270 rotation): the upright size is fitted into the box, and the result is given back
 * in the stored orientation, so the stored pixels can be scaled before they are turned. */
void sx_fit_box_oriented(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, int swap,
			 uint32_t *out_w, uint32_t *out_h);

/* Area-averaging resample of RGBA `src` (sw x sh) down to dw x dh (each at most the
 * source size). Each output pixel is the coverage-weighted mean of the source pixels
 * under it, computed with premultiplied alpha so transparent pixels do not bleed. */
uint8_t *sx_downscale_rgba(const uint8_t *src, uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh);

/* The same resample, fed one source row at a time, so a decoder never holds the whole
 * source: memory is O(dw x dh + sw) whatever sh is. The result is bit for bit
 * sx_downscale_rgba()'s.
 *
 *     struct sx_scaler *s = sx_scaler_new(sw, sh, dw, dh);   // NULL: bad sizes or no memory
 *     for each of the sh rows: sx_scaler_push(s, row);        // sw RGBA pixels, top first
 *     uint8_t *out = sx_scaler_finish(s);                     // dw x dh, caller frees
 *     sx_scaler_free(s);
 *
 * Rows past the sh-th are ignored; sx_scaler_finish() returns NULL unless exactly sh rows
 * came (the buffer is then the caller's; a second call returns NULL). sx_scaler_free()
 * takes NULL. */
struct sx_scaler;
struct sx_scaler *sx_scaler_new(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh);
void sx_scaler_push(struct sx_scaler *s, const uint8_t *row);
uint8_t *sx_scaler_finish(struct sx_scaler *s);
void sx_scaler_free(struct sx_scaler *s);

/* Applies EXIF orientation 1..8 to RGBA `src` (w x h). The result is h x w for 5..8.
 * Other values are treated as 1 (a copy). */
uint8_t *sx_orient_rgba(const uint8_t *src, uint32_t w, uint32_t h, int orientation);

/* True when orientation `o` swaps width and height (5..8). */
int sx_orientation_swaps(int o);

/* Drops the alpha byte of each RGBA pixel in place; the buffer then holds RGB rows. */
void sx_rgba_to_rgb_in_place(uint8_t *pixels, uint32_t w, uint32_t h);

struct sx_request;
struct sx_result;

/* The last step of every image answer: applies EXIF-style `orientation` (1..8; others
 * mean 1) to RGBA `rgba` (w x h, owned: taken over, freed on failure), drops alpha when
 * the request asks for RGB, and hands the pixels to result->image. Returns SX_OK, or
 * SX_ERR_NO_MEMORY with result->detail set. */
enum sx_status sx_finish_rgba(const struct sx_request *req, uint8_t *rgba, uint32_t w, uint32_t h,
			      int orientation, struct sx_result *result);

#endif
