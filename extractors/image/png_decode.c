/* png_decode.c: PNG probe and decode through libpng, to 8-bit RGBA, errors as statuses.
 *
 * libpng's error and warning callbacks are replaced (nothing printed; errors longjmp to
 * one place). Its own limits are set before the first chunk is read. Reading past the
 * end of the input is an error, so a truncated file or one without IEND is bad input,
 * never a partial image. The colour description (cICP, else iCCP, else sRGB, else gAMA
 * with or without cHRM; PNG 3rd edition's order) goes to image_color.c: 8-bit pixels are
 * converted in place, 16-bit ones before their reduction to 8 bits. An APNG decodes as its
 * default image (what libpng reads, read_default_image()); the probe reports its animation
 * (acTL/fcTL). A non-interlaced image is read one row at a time, and a thumbnail's rows go
 * straight into the scaler (image_finish.h), so only an Adam7 image is ever held whole.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_color.h"
#include "image_internal.h"
#include "sx_bytes.h"
#include "sx_size.h"

/* Everything a decode may leave behind, in the caller's frame so it stays well-defined
 * after libpng longjmps out. */
struct png_job {
	png_structp png;
	png_infop info;
	const uint8_t *data;
	size_t size, pos;
	enum sx_status status; /* set by callbacks before they fail */
	char message[160];
	uint8_t *pixels; /* an interlaced image held whole, or its even rows */
	png_bytep *rows;
	uint8_t *row;	       /* one 16-bit row (or one 8-bit one for read_interlaced) */
	struct image_rows out; /* a non-interlaced image, row by row */
	bool streamed;	       /* the answer is in `out` */
	uint32_t width, height;
	struct color_source color;
	struct color_plan plan;
	char chunks[32];      /* colour chunks seen, in file order */
	char icc_warning[96]; /* libpng's reason for dropping an iCCP chunk */
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);
	if (job->status == SX_OK)
		job->status = SX_ERR_BAD_INPUT;
	if (!job->message[0])
		snprintf(job->message, sizeof job->message, "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	/* Never printed. One warning matters: libpng reports a side over our user limit as
	 * a warning, then fails with a generic "Invalid IHDR data": that is a limit. */
	struct png_job *job = png_get_error_ptr(png);
	if (strncmp(msg, "iCCP", 4) == 0 && !job->icc_warning[0])
		snprintf(job->icc_warning, sizeof job->icc_warning, "libpng: %s", msg);
	if (strstr(msg, "exceeds user limit") && job->status == SX_OK) {
		job->status = SX_ERR_LIMIT;
		snprintf(job->message, sizeof job->message, "%s (cap %u per side)", msg,
			 SX_PNG_MAX_SIDE);
	}
}

static void read_input(png_structp png, png_bytep out, size_t len)
{
	struct png_job *job = png_get_io_ptr(png);
	if (len > job->size - job->pos) {
		job->status = SX_ERR_BAD_INPUT;
		snprintf(job->message, sizeof job->message, "file is truncated");
		png_error(png, "truncated");
	}
	memcpy(out, job->data + job->pos, len);
	job->pos += len;
}

/* Every libpng allocation goes through here. libpng sizes some buffers from chunk lengths
 * in the file (a tEXt chunk claiming 1.9 GB was found by fuzzing to get a 1.9 GB malloc
 * attempt despite png_set_chunk_malloc_max); nothing libpng itself needs is that large,
 * so a single cap turns such claims into a clean libpng error. */
static png_voidp limited_malloc(png_structp png, png_alloc_size_t size)
{
	(void)png;
	return size <= SX_PNG_MAX_ALLOC ? malloc(size) : NULL;
}

static void limited_free(png_structp png, png_voidp p)
{
	(void)png;
	free(p);
}

static const char *color_name(int color_type)
{
	switch (color_type) {
	case PNG_COLOR_TYPE_GRAY: return "gray";
	case PNG_COLOR_TYPE_RGB: return "rgb";
	case PNG_COLOR_TYPE_PALETTE: return "palette";
	case PNG_COLOR_TYPE_GRAY_ALPHA: return "gray_alpha";
	case PNG_COLOR_TYPE_RGB_ALPHA: return "rgba";
	default: return "unknown";
	}
}

static void describe(struct png_job *job, struct sx_meta *m)
{
	int ct = png_get_color_type(job->png, job->info);
	sx_meta_add_cstring(m, "format", "png");
	sx_meta_add_int(m, "width", png_get_image_width(job->png, job->info));
	sx_meta_add_int(m, "height", png_get_image_height(job->png, job->info));
	sx_meta_add_int(m, "bit_depth", png_get_bit_depth(job->png, job->info));
	sx_meta_add_cstring(m, "color_type", color_name(ct));
	sx_meta_add_bool(m, "has_alpha",
			 (ct & PNG_COLOR_MASK_ALPHA) ||
			     png_get_valid(job->png, job->info, PNG_INFO_tRNS));
	sx_meta_add_bool(m, "progressive",
			 png_get_interlace_type(job->png, job->info) == PNG_INTERLACE_ADAM7);
}

/* The colour chunks the file really has, before the first IDAT (libpng's info also
 * reports gAMA and cHRM values it derived from sRGB or iCCP). Only reads, bounded. */
static void walk_color_chunks(struct png_job *job)
{
	static const char *const names[] = {"iCCP", "sRGB", "gAMA", "cHRM", "cICP"};
	size_t pos = 8;
	while (job->size >= 12 && pos <= job->size - 12) {
		uint32_t len = sx_get_be32(job->data + pos);
		const uint8_t *type = job->data + pos + 4;
		if (memcmp(type, "IDAT", 4) == 0 || memcmp(type, "IEND", 4) == 0)
			break;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			size_t used = strlen(job->chunks);
			if (memcmp(type, names[i], 4) == 0 && !strstr(job->chunks, names[i]) &&
			    used + 6 < sizeof job->chunks)
				snprintf(job->chunks + used, sizeof job->chunks - used, "%s%s",
					 used ? " " : "", names[i]);
		}
		if (len > job->size - pos - 12)
			break;
		if (memcmp(type, "cICP", 4) == 0 && len == 4 && !job->color.has_cicp) {
			job->color.has_cicp = true;
			memcpy(job->color.cicp, job->data + pos + 8, 4);
		}
		pos += 12 + (size_t)len;
	}
}

/* APNG animation info from acTL and the fcTL chunks, walked over the whole file (bounded by
 * the input and SX_ANIM_MAX_FRAMES_COUNTED). acTL's frame count is never trusted: the frames
 * are the fcTL chunks really there. Delays: delay_num / delay_den seconds, den 0 = 100. */
static void describe_animation(const struct png_job *job, struct sx_meta *m)
{
	bool actl = false, capped = false;
	uint32_t plays = 1, frames = 0;
	uint64_t duration = 0;
	size_t pos = 8;
	while (job->size >= 12 && pos <= job->size - 12) {
		uint32_t len = sx_get_be32(job->data + pos);
		const uint8_t *type = job->data + pos + 4, *body = type + 4;
		if (len > job->size - pos - 12 || memcmp(type, "IEND", 4) == 0)
			break;
		if (memcmp(type, "acTL", 4) == 0 && len == 8 && !actl) {
			actl = true;
			plays = sx_get_be32(body + 4);
		} else if (memcmp(type, "fcTL", 4) == 0 && len == 26) {
			uint32_t num = sx_get_be16(body + 20), den = sx_get_be16(body + 22);
			duration += (uint64_t)num * 1000 / (den ? den : 100);
			if (++frames >= SX_ANIM_MAX_FRAMES_COUNTED) {
				capped = true;
				break;
			}
		}
		pos += 12 + (size_t)len;
	}
	if (!actl || frames == 0) {
		frames = 1;
		duration = 0;
		plays = 1;
	}
	sx_meta_add_bool(m, "animated", actl && frames > 1);
	sx_meta_add_int(m, "frame_count", frames);
	sx_meta_add_bool(m, "frame_count_capped", capped);
	sx_meta_add_int(m, "loop_count", plays);
	sx_meta_add_int(m, "duration", (int64_t)duration);
}

/* What image_color.c needs, from libpng's reading of the chunks walk_color_chunks saw. */
static void gather_color(struct png_job *job)
{
	png_structp png = job->png;
	png_infop info = job->info;
	struct color_source *c = &job->color;
	walk_color_chunks(job);
	c->space = png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR ? COLOR_SPACE_RGB
									: COLOR_SPACE_GRAY;
	c->chunks = job->chunks[0] ? job->chunks : "none";
	png_charp name;
	int compression;
	png_bytep profile;
	png_uint_32 len;
	if (strstr(job->chunks, "iCCP")) {
		if (png_get_iCCP(png, info, &name, &compression, &profile, &len) && len > 0) {
			c->icc = profile;
			c->icc_size = len;
		} else {
			c->icc_problem = job->icc_warning[0] ? job->icc_warning
							     : "libpng refused the iCCP chunk";
		}
	}
	int intent;
	c->srgb = strstr(job->chunks, "sRGB") && png_get_sRGB(png, info, &intent);
	if (strstr(job->chunks, "gAMA") && png_get_gAMA(png, info, &c->gamma) && c->gamma > 0)
		c->has_gamma = true;
	double *x = c->chrm;
	if (strstr(job->chunks, "cHRM") &&
	    png_get_cHRM(png, info, &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6], &x[7]))
		c->has_chrm = true;
}

/* Every colour type and depth to 8-bit RGBA (16-bit RGBA in host order when `keep16`:
 * its colour is converted before the reduction; 8-bit RGB when `rgb`, for an opaque
 * image answered as RGB), Adam7 passes combined by libpng when `combine_passes`. */
static void request_rgba(struct png_job *job, bool keep16, bool rgb, bool combine_passes)
{
	png_structp png = job->png;
	int ct = png_get_color_type(png, job->info);
	int depth = png_get_bit_depth(png, job->info);
	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if ((ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, job->info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if (depth == 16 && !keep16)
		png_set_strip_16(png); /* keeps the high byte, as Pillow does */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (depth == 16 && keep16)
		png_set_swap(png);
#endif
	if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(png);
	if (!rgb)
		png_set_filler(png, keep16 ? 0xFFFF : 0xFF, PNG_FILLER_AFTER);
	if (combine_passes)
		png_set_interlace_handling(png);
	png_read_update_info(png, job->info);
}

/* An interlaced (Adam7) image: libpng combines the seven passes only in a whole-image
 * buffer, so the image is held whole (8-bit RGBA; a 16-bit one converted row by row into
 * the front of its own buffer, never held twice). finish_image() scales it afterwards. */
static enum sx_status read_interlaced(struct png_job *job, bool keep16, uint32_t w, uint32_t h,
				      struct sx_result *result)
{
	size_t bytes, row_bytes = (size_t)w * (keep16 ? 8 : 4);
	if (!sx_mul_size(row_bytes, h, &bytes))
		return sx_fail(result, SX_ERR_LIMIT, "a %ux%u image is too large", w, h);
	job->pixels = malloc(bytes);
	job->rows = malloc(sizeof *job->rows * h);
	if (!job->pixels || !job->rows)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image", w, h);
	for (uint32_t y = 0; y < h; y++)
		job->rows[y] = job->pixels + (size_t)y * row_bytes;
	png_read_image(job->png, job->rows);
	if (keep16) {
		/* To sRGB from 16 bits, then 8: row y lands where rows < y were read from. */
		job->row = malloc((size_t)w * 4);
		if (!job->row)
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a row");
		for (uint32_t y = 0; y < h; y++) {
			color_apply(&job->plan, job->rows[y], job->row, w);
			memcpy(job->pixels + (size_t)y * w * 4, job->row, (size_t)w * 4);
		}
		uint8_t *smaller = realloc(job->pixels, (size_t)w * h * 4);
		if (smaller)
			job->pixels = smaller;
	} else if (color_plan_converts(&job->plan)) {
		color_apply(&job->plan, job->pixels, job->pixels, (size_t)w * h);
	}
	job->width = w;
	job->height = h;
	return SX_OK;
}

/* An Adam7 thumbnail, without the whole image: passes 1-6 hold only even rows, pass 7
 * every odd row whole. The even rows are gathered (half the image), then pass 7 is read
 * row by row, each odd row going to the scaler right after the even row above it. The
 * passes come uncombined (libpng skips empty ones, as the loop below does). */
static enum sx_status read_adam7_rows(const struct sx_request *req, struct png_job *job,
				      bool keep16, uint32_t w, uint32_t h, struct sx_result *result)
{
	enum sx_status status = image_rows_open(req, &job->out, w, h, w, w, h, 1, 4, result);
	if (status != SX_OK)
		return status;
	job->streamed = true;
	size_t px = keep16 ? 8 : 4, bytes, row_bytes = (size_t)w * px;
	if (!sx_mul_size(row_bytes, (h + 1) / 2, &bytes))
		return sx_fail(result, SX_ERR_LIMIT, "a %ux%u image is too large", w, h);
	job->pixels = malloc(bytes);
	job->row = malloc(row_bytes);
	if (!job->pixels || !job->row)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image", w, h);
	for (int pass = 0; pass < 6; pass++) {
		uint32_t rows = PNG_PASS_ROWS(h, pass), cols = PNG_PASS_COLS(w, pass);
		for (uint32_t i = 0; cols && i < rows; i++) {
			png_read_row(job->png, job->row, NULL);
			uint32_t y = PNG_ROW_FROM_PASS_ROW(i, pass);
			uint8_t *even = job->pixels + (size_t)(y / 2) * row_bytes;
			for (uint32_t k = 0; k < cols; k++)
				memcpy(even + (size_t)PNG_COL_FROM_PASS_COL(k, pass) * px,
				       job->row + (size_t)k * px, px);
		}
	}
	bool convert = color_plan_converts(&job->plan);
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *src = job->pixels + (size_t)(y / 2) * row_bytes;
		if (y % 2) {
			png_read_row(job->png, job->row, NULL); /* pass 7 */
			src = job->row;
		}
		uint8_t *out = image_rows_next(&job->out);
		if (keep16) {
			color_apply(&job->plan, src, out, w);
		} else {
			memcpy(out, src, (size_t)w * 4);
			if (convert)
				color_apply(&job->plan, out, out, w);
		}
		image_rows_commit(&job->out);
	}
	return SX_OK;
}

/* A non-interlaced image, one row at a time (png_read_row): each row converted to sRGB as
 * it comes (from 16 bits when `keep16`), then stored, or for a thumbnail fed straight to
 * the area-averaging scaler, so the source is never held whole (image_finish.h). */
static enum sx_status read_rows(const struct sx_request *req, struct png_job *job, bool keep16,
				bool rgb, uint32_t w, uint32_t h, struct sx_result *result)
{
	enum sx_status status =
	    image_rows_open(req, &job->out, w, h, w, w, h, 1, rgb ? 3 : 4, result);
	if (status != SX_OK)
		return status;
	job->streamed = true;
	if (keep16 && !(job->row = malloc((size_t)w * 8)))
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a row");
	bool convert = color_plan_converts(&job->plan);
	for (uint32_t y = 0; y < h; y++) {
		uint8_t *out = image_rows_next(&job->out);
		if (keep16) {
			png_read_row(job->png, job->row, NULL);
			color_apply(&job->plan, job->row, out, w);
		} else {
			png_read_row(job->png, out, NULL);
			if (convert)
				color_apply(&job->plan, out, out, w);
		}
		image_rows_commit(&job->out);
	}
	return SX_OK;
}

/* The default image (an APNG's too: what libpng reads), after png_read_info: to 8-bit RGBA
 * sRGB, then through png_read_end, so a missing IEND is truncation. On SX_OK either
 * job->streamed (the answer is in job->out) or job->pixels holds job->width x height. */
static enum sx_status read_default_image(const struct sx_request *req, struct png_job *job,
					 struct sx_result *result)
{
	uint32_t w = png_get_image_width(job->png, job->info);
	uint32_t h = png_get_image_height(job->png, job->info);
	enum sx_status status = check_pixel_cap(req, w, h, result);
	if (status != SX_OK)
		return status;
	bool keep16 = false;
	if (req->color == SX_COLOR_SRGB) {
		bool is16 = png_get_bit_depth(job->png, job->info) == 16;
		color_plan_open(&job->plan, &job->color,
				is16 ? COLOR_LAYOUT_RGBA16 : COLOR_LAYOUT_RGBA8, true);
		keep16 = is16 && color_plan_converts(&job->plan);
	}
	bool interlaced = png_get_interlace_type(job->png, job->info) == PNG_INTERLACE_ADAM7;
	bool opaque = !(png_get_color_type(job->png, job->info) & PNG_COLOR_MASK_ALPHA) &&
		      !png_get_valid(job->png, job->info, PNG_INFO_tRNS);
	bool rgb =
	    opaque && !interlaced && !color_plan_converts(&job->plan) && image_rows_rgb_ok(req, 1);
	/* A thumbnail of an Adam7 image needs only half of it at a time (read_adam7_rows); a
	 * full decode holds it whole anyway, so libpng combines the passes in place. */
	bool adam7_rows = interlaced && req->mode == SX_MODE_THUMBNAIL;
	request_rgba(job, keep16, rgb, !adam7_rows);
	if (png_get_rowbytes(job->png, job->info) != (size_t)w * (keep16 ? 8 : rgb ? 3 : 4))
		return sx_fail(result, SX_ERR_INTERNAL, "unexpected PNG row layout");
	if (adam7_rows)
		status = read_adam7_rows(req, job, keep16, w, h, result);
	else if (interlaced)
		status = read_interlaced(job, keep16, w, h, result);
	else
		status = read_rows(req, job, keep16, rgb, w, h, result);
	if (status != SX_OK)
		return status;
	/* Reads the chunks after the image up to IEND: a missing IEND is truncation. */
	png_read_end(job->png, NULL);
	return SX_OK;
}

/* Holds the setjmp; every libpng call that can fail runs below it. */
static enum sx_status run_png(struct png_job *job, const struct sx_request *req,
			      struct sx_result *result)
{
	if (setjmp(png_jmpbuf(job->png)))
		return sx_fail(result, job->status == SX_OK ? SX_ERR_BAD_INPUT : job->status,
			       "PNG: %s", job->message);
	png_set_read_fn(job->png, job, read_input);
	png_set_user_limits(job->png, SX_PNG_MAX_SIDE, SX_PNG_MAX_SIDE);
	png_set_chunk_cache_max(job->png, SX_PNG_CHUNK_CACHE_MAX);
	png_set_chunk_malloc_max(job->png, SX_PNG_CHUNK_MALLOC_MAX);
	/* A bad CRC anywhere, critical or ancillary, rejects the file. */
	png_set_crc_action(job->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
	job->info = png_create_info_struct(job->png);
	if (!job->info)
		return sx_fail(result, SX_ERR_NO_MEMORY, "PNG: no memory for the info struct");
	png_read_info(job->png, job->info);
	gather_color(job);
	if (req->mode == SX_MODE_PROBE) {
		describe(job, &result->meta);
		describe_animation(job, &result->meta);
		color_plan_open(&job->plan, &job->color, COLOR_LAYOUT_RGBA8, false);
		color_describe(&job->plan, &result->meta);
		result->kind = SX_RESULT_META;
		return SX_OK;
	}
	return read_default_image(req, job, result);
}

enum sx_status png_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			   struct sx_result *result)
{
	struct png_job job;
	memset(&job, 0, sizeof job);
	job.data = data;
	job.size = size;
	job.status = SX_OK;
	job.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning, &job,
					   limited_malloc, limited_free);
	if (!job.png)
		return sx_fail(result, SX_ERR_NO_MEMORY, "PNG: no memory for the decoder");

	enum sx_status status = run_png(&job, req, result);
	/* Before libpng's info (it owns the iCCP bytes the plan may point at). */
	color_plan_close(&job.plan);
	png_destroy_read_struct(&job.png, job.info ? &job.info : NULL, NULL);
	free(job.rows);
	free(job.row);
	if (status == SX_OK && req->mode != SX_MODE_PROBE && job.streamed)
		status = image_rows_finish(req, &job.out, result);
	else if (status == SX_OK && req->mode != SX_MODE_PROBE)
		return finish_image(req, job.pixels, job.width, job.height, job.width, job.height,
				    1, result);
	image_rows_close(&job.out);
	free(job.pixels);
	return status;
}
