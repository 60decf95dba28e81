/* heif_core.c: the sx-heif family: HEIC and AVIF still images (and the primary item of
 * image sequences) through libheif 1.15, with the single-threaded libavcodec decoders of
 * heif_codecs.c, sx-image's colour path (image_color.c) and hand-over (image_finish.c).
 * Order per request: the box walk against the caps (heif_boxes.c), libheif's parse, the
 * pixel cap on the displayed size, then decoding. */
#include "heif_core.h"

#include <libavutil/log.h>
#include <libheif/heif.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "heif_boxes.h"
#include "heif_codecs.h"
#include "image_color.h"
#include "image_finish.h"
#include "sx_size.h"

static const char summary[] =
    "Reads a HEIC (HEVC) or AVIF (AV1) image through libheif, decoding in one thread\n"
    "(FFmpeg's hevc decoder, libdav1d). Grid tiles are assembled, irot/imir/clap and\n"
    "alpha applied (EXIF orientation is not: HEIF says to ignore it). --probe returns\n"
    "format (heic, avif, heif), width and height as displayed, stored_width and\n"
    "stored_height, bit_depth, has_alpha, item_count, image_count, has_thumbnail,\n"
    "primary_item_type, tiles, animated, and the colour fields of sx-image. Image\n"
    "answers are 8-bit RGBA (or RGB) in sRGB (LittleCMS, unless --color raw); thumbnails\n"
    "decode the embedded thumbnail item when it is at least the requested size.";

/* av_log's default callback prints through stdio: never called. */
static void silent_log(void *avcl, int level, const char *fmt, va_list vl)
{
	(void)avcl;
	(void)level;
	(void)fmt;
	(void)vl;
}

static bool prepare_heif(void **ctx)
{
	*ctx = NULL;
	av_log_set_level(AV_LOG_QUIET);
	av_log_set_callback(silent_log);
	/* heif_init scans the plugin directory (absent in Debian 12's libheif1; the client
	 * gives an empty environment, so LIBHEIF_PLUGIN_PATH is unset): before the line. */
	if (heif_init(NULL).code != heif_error_Ok)
		return false;
	return heif_codecs_register() && color_prepare();
}

/* A fork server: the transforms of the common CICP descriptions, built once (nclx is how
 * phones describe HEIC and AVIF colour; about 40 ms more at the server's start). */
static void prepare_server_heif(void *ctx)
{
	(void)ctx;
	(void)color_cache_build(SIZE_MAX);
}

struct heif_job {
	struct heif_layout layout;
	struct heif_context *ctx;
	struct heif_image_handle *primary, *decode_from;
	struct heif_image *img;
	struct heif_decoding_options *options;
	uint8_t *icc;
	struct color_source color;
	struct color_plan plan;
	bool plan_open;
};

static const char *format_name(const struct heif_layout *l)
{
	if (!strcmp(l->primary_type, "av01") || (l->brand_avif && !l->brand_heic))
		return "avif";
	if (!strcmp(l->primary_type, "hvc1") || l->brand_heic)
		return "heic";
	return "heif";
}

static enum sx_status heif_failure(struct sx_result *result, struct heif_error e, const char *step)
{
	enum sx_status st = SX_ERR_BAD_INPUT;
	if (e.code == heif_error_Memory_allocation_error)
		st = SX_ERR_NO_MEMORY;
	else if (e.code == heif_error_Unsupported_feature ||
		 e.code == heif_error_Unsupported_filetype)
		st = SX_ERR_UNSUPPORTED;
	else if (e.subcode == heif_suberror_Security_limit_exceeded)
		st = SX_ERR_LIMIT;
	return sx_fail(result, st, "HEIF: %s: %s", step, e.message ? e.message : "error");
}

/* The colour the file declares for the image: its colr ICC profile, else its nclx
 * (matrix 0: libheif converts YCbCr to RGB itself). */
static enum sx_status read_color(struct heif_job *job, struct sx_result *result)
{
	job->color.space = COLOR_SPACE_RGB;
	enum heif_color_profile_type t = heif_image_handle_get_color_profile_type(job->primary);
	if (t == heif_color_profile_type_prof || t == heif_color_profile_type_rICC) {
		size_t n = heif_image_handle_get_raw_color_profile_size(job->primary);
		if (n > SX_COLOR_MAX_PROFILE_BYTES) {
			job->color.icc_problem = "profile too large";
			return SX_OK;
		}
		if (n && !(job->icc = malloc(n)))
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the ICC profile");
		if (n &&
		    heif_image_handle_get_raw_color_profile(job->primary, job->icc).code == 0) {
			job->color.icc = job->icc;
			job->color.icc_size = n;
		}
	} else if (t == heif_color_profile_type_nclx) {
		/* libheif 1.15 hands over the profile even when it answers an error (unknown
		 * code points): freed in any case, used only without an error. */
		struct heif_color_profile_nclx *nclx = NULL;
		if (heif_image_handle_get_nclx_color_profile(job->primary, &nclx).code == 0 &&
		    nclx) {
			job->color.has_cicp = true;
			job->color.cicp[0] = (uint8_t)nclx->color_primaries;
			job->color.cicp[1] = (uint8_t)nclx->transfer_characteristics;
			job->color.cicp[2] = 0;
			job->color.cicp[3] = 1;
		}
		heif_nclx_color_profile_free(nclx);
	}
	return SX_OK;
}

static void describe(const struct heif_job *job, struct sx_meta *m)
{
	const struct heif_layout *l = &job->layout;
	struct heif_image_handle *h = job->primary;
	sx_meta_add_cstring(m, "format", format_name(l));
	sx_meta_add_int(m, "width", heif_image_handle_get_width(h));
	sx_meta_add_int(m, "height", heif_image_handle_get_height(h));
	sx_meta_add_int(m, "stored_width", heif_image_handle_get_ispe_width(h));
	sx_meta_add_int(m, "stored_height", heif_image_handle_get_ispe_height(h));
	int depth = heif_image_handle_get_luma_bits_per_pixel(h);
	if (depth > 0)
		sx_meta_add_int(m, "bit_depth", depth);
	bool alpha = heif_image_handle_has_alpha_channel(h);
	sx_meta_add_bool(m, "has_alpha", alpha);
	sx_meta_add_cstring(m, "color_type", alpha ? "rgba" : "rgb");
	sx_meta_add_int(m, "item_count", l->item_count);
	sx_meta_add_int(m, "image_count", heif_context_get_number_of_top_level_images(job->ctx));
	sx_meta_add_bool(m, "has_thumbnail", heif_image_handle_get_number_of_thumbnails(h) > 0);
	sx_meta_add_cstring(m, "primary_item_type", l->primary_type);
	sx_meta_add_cstring(m, "major_brand", l->major_brand);
	sx_meta_add_int(m, "tiles", l->tiles);
	/* A sequence track (moov) or a sequence brand: the answer is the primary item. */
	sx_meta_add_bool(m, "animated", l->has_moov || l->brand_sequence);
	sx_meta_add_int(m, "orientation", 1);
}

/* Thumbnails: the first thumbnail item whose displayed size covers the target box. */
static void choose_source(struct heif_job *job, const struct sx_request *req)
{
	job->decode_from = job->primary;
	if (req->mode != SX_MODE_THUMBNAIL)
		return;
	uint32_t w = (uint32_t)heif_image_handle_get_width(job->primary);
	uint32_t h = (uint32_t)heif_image_handle_get_height(job->primary);
	uint32_t tw, th;
	thumbnail_target(req, w, h, 1, &tw, &th);
	heif_item_id ids[4];
	int n = heif_image_handle_get_list_of_thumbnail_IDs(job->primary, ids, 4);
	for (int i = 0; i < n; i++) {
		struct heif_image_handle *t = NULL;
		if (heif_image_handle_get_thumbnail(job->primary, ids[i], &t).code != 0 || !t)
			continue;
		uint32_t w2 = (uint32_t)heif_image_handle_get_width(t);
		uint32_t h2 = (uint32_t)heif_image_handle_get_height(t);
		/* Same shape (so the same transforms were applied), at least the target. */
		if (w2 >= tw && h2 >= th && (uint64_t)w2 * h >= (uint64_t)h2 * w * 98 / 100 &&
		    (uint64_t)w2 * h <= (uint64_t)h2 * w * 102 / 100) {
			job->decode_from = t;
			return;
		}
		heif_image_handle_release(t);
	}
}

/* Deep interleaved samples (`ch` a pixel, `depth` bits, little-endian) to host-order
 * 16-bit RGBA at full scale, rounded; RGB gets opaque alpha. Out-of-range values clamp. */
static void widen(const uint8_t *src, uint16_t *dst, size_t px, unsigned ch, int depth)
{
	uint32_t max = (1u << depth) - 1;
	for (size_t i = 0; i < px; i++) {
		for (unsigned c = 0; c < 4; c++) {
			uint32_t v = c < ch ? (uint32_t)src[2 * (i * ch + c)] |
						  (uint32_t)src[2 * (i * ch + c) + 1] << 8
					    : max;
			if (v > max)
				v = max;
			dst[i * 4 + c] = (uint16_t)((v * 65535u + max / 2) / max);
		}
	}
}

static enum sx_status decode(struct heif_job *job, const struct sx_request *req,
			     struct sx_result *result)
{
	struct heif_image_handle *h = job->decode_from;
	int depth = heif_image_handle_get_luma_bits_per_pixel(h);
	bool deep = depth > 8;
	bool alpha = heif_image_handle_has_alpha_channel(h);
	enum heif_chroma chroma = !deep	  ? heif_chroma_interleaved_RGBA
				  : alpha ? heif_chroma_interleaved_RRGGBBAA_LE
					  : heif_chroma_interleaved_RRGGBB_LE;
	unsigned ch = deep && !alpha ? 3 : 4;
	struct heif_error e =
	    heif_decode_image(h, &job->img, heif_colorspace_RGB, chroma, job->options);
	if (e.code)
		return heif_failure(result, e, "decoding");
	int w = heif_image_get_width(job->img, heif_channel_interleaved);
	int hh = heif_image_get_height(job->img, heif_channel_interleaved);
	int stride = 0;
	const uint8_t *src =
	    heif_image_get_plane_readonly(job->img, heif_channel_interleaved, &stride);
	if (!src || w <= 0 || hh <= 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "HEIF: no decoded picture");
	enum sx_status st = check_pixel_cap(req, (uint32_t)w, (uint32_t)hh, result);
	if (st != SX_OK)
		return st;
	size_t row = (size_t)w * ch * (deep ? 2 : 1);
	if (stride < 0 || (size_t)stride < row)
		return sx_fail(result, SX_ERR_INTERNAL, "HEIF: short decoded rows");
	int plane_depth = heif_image_get_bits_per_pixel_range(job->img, heif_channel_interleaved);
	/* No colr box: the coded stream's own description (HEVC VUI, AV1 sequence header),
	 * which the decoder plugin attached to the picture. */
	struct heif_color_profile_nclx *nclx = NULL;
	if (!job->color.icc && !job->color.has_cicp && !job->color.icc_problem &&
	    heif_image_get_nclx_color_profile(job->img, &nclx).code == 0 && nclx) {
		job->color.has_cicp = true;
		job->color.cicp[0] = (uint8_t)nclx->color_primaries;
		job->color.cicp[1] = (uint8_t)nclx->transfer_characteristics;
		job->color.cicp[3] = 1;
	}
	heif_nclx_color_profile_free(nclx); /* also after an error: see read_color() */
	/* Without colour conversion, a deep picture still goes through the 16-bit layout,
	 * so the reduction to 8 bits rounds (libheif's own shifts the low bits away). */
	color_plan_open(&job->plan,
			req->color == SX_COLOR_SRGB
			    ? &job->color
			    : &(struct color_source){.space = COLOR_SPACE_RGB},
			deep ? COLOR_LAYOUT_RGBA16 : COLOR_LAYOUT_RGBA8, true);
	job->plan_open = true;
	bool converts = color_plan_converts(&job->plan);
	/* Row by row into the hand-over: a thumbnail's rows go straight to the area-averaging
	 * scaler (colour first, as for every format), so no second full-size picture exists. */
	uint32_t src_w = (uint32_t)heif_image_handle_get_width(job->primary);
	uint32_t src_h = (uint32_t)heif_image_handle_get_height(job->primary);
	struct image_rows rows;
	st = image_rows_open(req, &rows, (uint32_t)w, (uint32_t)hh, (uint32_t)w, src_w, src_h, 1, 4,
			     result);
	uint16_t *wide = deep && st == SX_OK ? malloc((size_t)w * 8) : NULL;
	if (st == SX_OK && deep && !wide)
		st = sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %dx%d image", w, hh);
	for (int y = 0; st == SX_OK && y < hh; y++) {
		const uint8_t *line = src + (size_t)y * (size_t)stride;
		uint8_t *out = image_rows_next(&rows);
		if (deep) {
			widen(line, wide, (size_t)w, ch, plane_depth > 8 ? plane_depth : depth);
			if (converts)
				color_apply(&job->plan, wide, out, (size_t)w);
			else
				for (size_t i = 0; i < (size_t)w * 4; i++)
					out[i] =
					    (uint8_t)(((uint32_t)wide[i] * 255u + 32767u) / 65535u);
		} else {
			memcpy(out, line, row);
			if (converts)
				color_apply(&job->plan, out, out, (size_t)w);
		}
		image_rows_commit(&rows);
	}
	free(wide);
	heif_image_release(job->img);
	job->img = NULL;
	if (st == SX_OK)
		st = image_rows_finish(req, &rows, result);
	image_rows_close(&rows);
	return st;
}

static enum sx_status run_heif(struct heif_job *job, const struct sx_request *req,
			       const uint8_t *data, size_t size, struct sx_result *result)
{
	enum sx_status st = heif_walk(data, size, req->max_pixels, &job->layout, result);
	if (st != SX_OK)
		return st;
	if (size > INT32_MAX)
		return sx_fail(result, SX_ERR_LIMIT, "HEIF: input over 2 GiB");
	/* A coded picture may not be larger than the largest coded image item the file
	 * declares, plus one 64-sample coding unit each way (HEVC and AV1 code whole blocks and
	 * crop), nor than the cap: a tile whose SPS claims 4096x4096 inside a grid of 96x64
	 * tiles is refused by libavcodec before it allocates the picture. */
	const struct heif_layout *l = &job->layout;
	uint64_t coded = l->max_coded_w ? ((uint64_t)l->max_coded_w + SX_HEIF_CODING_SLACK) *
					      ((uint64_t)l->max_coded_h + SX_HEIF_CODING_SLACK)
					: req->max_pixels;
	heif_codecs_set_max_pixels(coded < req->max_pixels ? coded : req->max_pixels);
	if (!(job->ctx = heif_context_alloc()))
		return sx_fail(result, SX_ERR_NO_MEMORY, "HEIF: no memory for a context");
	heif_context_set_maximum_image_size_limit(job->ctx, (int)SX_HEIF_MAX_SIDE);
	/* 0: tiles are decoded in this thread (1 would start one background thread). */
	heif_context_set_max_decoding_threads(job->ctx, 0);
	struct heif_error e =
	    heif_context_read_from_memory_without_copy(job->ctx, data, size, NULL);
	if (e.code)
		return heif_failure(result, e, "reading the file");
	e = heif_context_get_primary_image_handle(job->ctx, &job->primary);
	if (e.code)
		return heif_failure(result, e, "primary image");
	int w = heif_image_handle_get_width(job->primary);
	int h = heif_image_handle_get_height(job->primary);
	if (w <= 0 || h <= 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "HEIF: the primary image has no size");
	if ((st = check_pixel_cap(req, (uint32_t)w, (uint32_t)h, result)) != SX_OK)
		return st;
	if ((st = read_color(job, result)) != SX_OK)
		return st;
	if (req->mode == SX_MODE_PROBE) {
		describe(job, &result->meta);
		color_plan_open(&job->plan, &job->color, COLOR_LAYOUT_RGBA8, false);
		job->plan_open = true;
		color_describe(&job->plan, &result->meta);
		result->kind = SX_RESULT_META;
		return sx_meta_ok(&result->meta)
			   ? SX_OK
			   : sx_fail(result, SX_ERR_INTERNAL, "metadata overflow");
	}
	if (!(job->options = heif_decoding_options_alloc()))
		return sx_fail(result, SX_ERR_NO_MEMORY, "HEIF: no memory for options");
	job->options->convert_hdr_to_8bit = 0;
	choose_source(job, req);
	return decode(job, req, result);
}

static enum sx_status extract_heif(void *ctx, const struct sx_request *req, const uint8_t *data,
				   size_t size, struct sx_result *result)
{
	(void)ctx;
	struct heif_job job;
	memset(&job, 0, sizeof(job));
	enum sx_status st = run_heif(&job, req, data, size, result);
	if (job.plan_open)
		color_plan_close(&job.plan);
	if (job.img)
		heif_image_release(job.img);
	if (job.decode_from && job.decode_from != job.primary)
		heif_image_handle_release(job.decode_from);
	if (job.primary)
		heif_image_handle_release(job.primary);
	if (job.options)
		heif_decoding_options_free(job.options);
	if (job.ctx)
		heif_context_free(job.ctx);
	free(job.icc);
	return st;
}

const struct sx_family sx_heif_family = {
    .name = "sx-heif",
    .summary = summary,
    .prepare = prepare_heif,
    .prepare_server = prepare_server_heif,
    .prepare_failure = "cannot set up libheif, its decoders or LittleCMS",
    .extract = extract_heif,
    /* 8-bit and 10-bit HEVC and AV1, alpha, a grid, a thumbnail item, ICC and nclx. */
    .samples = &warm_heif,
    .modes = SX_FAMILY_ALL_MODES,
    .warm_box_w = 7,
    .warm_box_h = 5,
};
