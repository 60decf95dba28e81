/* sx_scale.c: box fitting, area-averaging downscale, orientation, alpha drop. */
#include "sx_scale.h"

#include <stdlib.h>
#include <string.h>

#include "sx_extract.h"
#include "sx_size.h"

void sx_fit_box(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, uint32_t *out_w,
		uint32_t *out_h)
{
	if (w <= box_w && h <= box_h) {
		*out_w = w;
		*out_h = h;
		return;
	}
	/* Compare w/box_w and h/box_h exactly in integers to pick the limiting side. */
	uint64_t tw, th;
	if ((uint64_t)w * box_h >= (uint64_t)h * box_w) {
		tw = box_w;
		th = ((uint64_t)h * box_w * 2 + w) / (2 * (uint64_t)w);
	} else {
		th = box_h;
		tw = ((uint64_t)w * box_h * 2 + h) / (2 * (uint64_t)h);
	}
	*out_w = tw ? (uint32_t)tw : 1;
	*out_h = th ? (uint32_t)th : 1;
}

void sx_fit_box_oriented(uint32_t w, uint32_t h, uint32_t box_w, uint32_t box_h, int swap,
			 uint32_t *out_w, uint32_t *out_h)
{
	uint32_t fw, fh;
	sx_fit_box(swap ? h : w, swap ? w : h, box_w, box_h, &fw, &fh);
	*out_w = swap ? fh : fw;
	*out_h = swap ? fw : fh;
}

/* For one axis: output i covers source [i*s/d, (i+1)*s/d). Fills first[i], count[i] and the
 * weights (fractions of a source pixel covered), each output's weights summing to 1. */
struct axis {
	uint32_t *first, *count;
	float *weight; /* count[i] weights for output i, back to back */
};

static void free_axis(struct axis *ax)
{
	free(ax->first);
	free(ax->count);
	free(ax->weight);
}

static int build_axis(struct axis *ax, uint32_t s, uint32_t d)
{
	size_t nweights = (size_t)s + 2 * (size_t)d;
	ax->first = malloc(sizeof *ax->first * d);
	ax->count = malloc(sizeof *ax->count * d);
	ax->weight = malloc(sizeof *ax->weight * nweights);
	if (!ax->first || !ax->count || !ax->weight) {
		free_axis(ax);
		return 0;
	}
	double scale = (double)s / d;
	size_t k = 0;
	for (uint32_t i = 0; i < d; i++) {
		double lo = i * scale, hi = (i + 1) * scale;
		uint32_t a = (uint32_t)lo, b = (uint32_t)hi;
		if (b >= s || (double)b == hi)
			b = b > 0 ? b - 1 : 0;
		if (b >= s)
			b = s - 1;
		ax->first[i] = a;
		ax->count[i] = b - a + 1;
		for (uint32_t j = a; j <= b; j++) {
			double l = j > lo ? j : lo, r = j + 1 < hi ? j + 1 : hi;
			ax->weight[k++] = (float)((r - l) / scale);
		}
	}
	return 1;
}

/* The streaming state: one horizontal-pass row and one vertical accumulator, each dw x 4
 * floats; the output grows row by row. */
struct sx_scaler {
	uint32_t sw, sh, dw, dh;
	uint32_t next_in;  /* source rows pushed so far */
	uint32_t next_out; /* output row being accumulated */
	size_t wy;	   /* index into ay.weight of next_out's first weight */
	struct axis ax, ay;
	float *hrow, *acc;
	uint8_t *out;
};

void sx_scaler_free(struct sx_scaler *s)
{
	if (!s)
		return;
	free_axis(&s->ax);
	free_axis(&s->ay);
	free(s->hrow);
	free(s->acc);
	free(s->out);
	free(s);
}

struct sx_scaler *sx_scaler_new(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh)
{
	size_t out_bytes, row_count;
	if (dw == 0 || dh == 0 || dw > sw || dh > sh || !sx_mul3_size(dw, dh, 4, &out_bytes) ||
	    !sx_mul_size(dw, 4, &row_count) || row_count > SIZE_MAX / sizeof(float))
		return NULL;
	struct sx_scaler *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->sw = sw;
	s->sh = sh;
	s->dw = dw;
	s->dh = dh;
	s->out = malloc(out_bytes);
	s->hrow = malloc(row_count * sizeof(float));
	s->acc = calloc(row_count, sizeof(float));
	if (!s->out || !s->hrow || !s->acc || !build_axis(&s->ax, sw, dw) ||
	    !build_axis(&s->ay, sh, dh)) {
		sx_scaler_free(s);
		return NULL;
	}
	return s;
}

/* Horizontal pass of one source row into s->hrow, premultiplying colour by alpha. */
static void scale_row(struct sx_scaler *s, const uint8_t *row)
{
	const struct axis *ax = &s->ax;
	float *t = s->hrow;
	size_t k = 0;
	for (uint32_t x = 0; x < s->dw; x++) {
		float r = 0, g = 0, b = 0, a = 0;
		const uint8_t *p = row + (size_t)ax->first[x] * 4;
		for (uint32_t j = 0; j < ax->count[x]; j++, p += 4) {
			float wa = ax->weight[k++] * p[3];
			r += wa * p[0];
			g += wa * p[1];
			b += wa * p[2];
			a += wa;
		}
		t[x * 4 + 0] = r;
		t[x * 4 + 1] = g;
		t[x * 4 + 2] = b;
		t[x * 4 + 3] = a;
	}
}

/* The accumulated output row, back to straight alpha; the accumulator starts again. */
static void emit_row(struct sx_scaler *s)
{
	uint8_t *o = s->out + (size_t)s->next_out * s->dw * 4;
	float *acc = s->acc;
	for (uint32_t x = 0; x < s->dw; x++, acc += 4) {
		float a = acc[3];
		for (int c = 0; c < 3; c++) {
			float v = a > 0 ? acc[c] / a : 0;
			o[x * 4 + c] = (uint8_t)(v >= 255 ? 255 : v <= 0 ? 0 : v + 0.5f);
		}
		o[x * 4 + 3] = (uint8_t)(a >= 255 ? 255 : a <= 0 ? 0 : a + 0.5f);
		acc[0] = acc[1] = acc[2] = acc[3] = 0;
	}
}

void sx_scaler_push(struct sx_scaler *s, const uint8_t *row)
{
	if (s->next_in >= s->sh)
		return;
	uint32_t y = s->next_in++;
	scale_row(s, row);
	/* Source row y adds to every output row it lies under (at most two: downscaling), in
	 * the order the weights were built. */
	while (s->next_out < s->dh) {
		uint32_t first = s->ay.first[s->next_out], count = s->ay.count[s->next_out];
		if (y < first || y >= first + count)
			break;
		float w = s->ay.weight[s->wy + (y - first)];
		size_t n = (size_t)s->dw * 4;
		for (size_t i = 0; i < n; i++)
			s->acc[i] += w * s->hrow[i];
		if (y + 1 < first + count)
			break;
		emit_row(s);
		s->wy += count;
		s->next_out++;
	}
}

uint8_t *sx_scaler_finish(struct sx_scaler *s)
{
	if (s->next_in != s->sh || s->next_out != s->dh)
		return NULL;
	uint8_t *out = s->out;
	s->out = NULL;
	return out;
}

uint8_t *sx_downscale_rgba(const uint8_t *src, uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh)
{
	struct sx_scaler *s = sx_scaler_new(sw, sh, dw, dh);
	if (!s)
		return NULL;
	for (uint32_t y = 0; y < sh; y++)
		sx_scaler_push(s, src + (size_t)y * sw * 4);
	uint8_t *out = sx_scaler_finish(s);
	sx_scaler_free(s);
	return out;
}

int sx_orientation_swaps(int o)
{
	return o >= 5 && o <= 8;
}

uint8_t *sx_orient_rgba(const uint8_t *src, uint32_t w, uint32_t h, int orientation)
{
	size_t bytes;
	if (!sx_mul3_size(w, h, 4, &bytes))
		return NULL;
	uint8_t *out = malloc(bytes);
	if (!out)
		return NULL;
	if (orientation < 2 || orientation > 8) {
		memcpy(out, src, bytes);
		return out;
	}
	uint32_t ow = sx_orientation_swaps(orientation) ? h : w;
	uint32_t oh = sx_orientation_swaps(orientation) ? w : h;
	const uint32_t *s = (const uint32_t *)(const void *)src;
	uint32_t *d = (uint32_t *)(void *)out;
	for (uint32_t y = 0; y < oh; y++) {
		for (uint32_t x = 0; x < ow; x++) {
			uint32_t sx, sy;
			switch (orientation) {
			case 2:
				sx = w - 1 - x;
				sy = y;
				break;
			case 3:
				sx = w - 1 - x;
				sy = h - 1 - y;
				break;
			case 4:
				sx = x;
				sy = h - 1 - y;
				break;
			case 5:
				sx = y;
				sy = x;
				break;
			case 6:
				sx = y;
				sy = h - 1 - x;
				break;
			case 7:
				sx = w - 1 - y;
				sy = h - 1 - x;
				break;
			default:
				sx = w - 1 - y;
				sy = x;
				break; /* 8 */
			}
			d[(size_t)y * ow + x] = s[(size_t)sy * w + sx];
		}
	}
	return out;
}

void sx_rgba_to_rgb_in_place(uint8_t *pixels, uint32_t w, uint32_t h)
{
	size_t n = (size_t)w * h;
	for (size_t i = 0; i < n; i++) {
		pixels[i * 3 + 0] = pixels[i * 4 + 0];
		pixels[i * 3 + 1] = pixels[i * 4 + 1];
		pixels[i * 3 + 2] = pixels[i * 4 + 2];
	}
}

static bool all_opaque(const uint8_t *rgba, uint32_t w, uint32_t h)
{
	size_t n = (size_t)w * h;
	for (size_t i = 0; i < n; i++)
		if (rgba[i * 4 + 3] != 255)
			return false;
	return true;
}

enum sx_status sx_finish_rgba(const struct sx_request *req, uint8_t *rgba, uint32_t w, uint32_t h,
			      int orientation, struct sx_result *result)
{
	if (orientation >= 2 && orientation <= 8) {
		uint8_t *turned = sx_orient_rgba(rgba, w, h, orientation);
		free(rgba);
		if (!turned)
			return sx_fail(result, SX_ERR_NO_MEMORY,
				       "no memory to turn the picture upright");
		rgba = turned;
		if (sx_orientation_swaps(orientation)) {
			uint32_t t = w;
			w = h;
			h = t;
		}
	}
	unsigned channels = req->channels;
	if (channels == 0) /* --auto-alpha: drop alpha only when it carries nothing */
		channels = all_opaque(rgba, w, h) ? 3 : 4;
	if (channels == 3)
		sx_rgba_to_rgb_in_place(rgba, w, h);
	result->image.width = w;
	result->image.height = h;
	result->image.channels = channels == 3 ? 3 : 4;
	result->image.pixels = rgba;
	result->kind = SX_RESULT_IMAGE;
	return SX_OK;
}
