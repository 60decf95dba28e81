/* jpeg_decode.c: JPEG probe and decode through libjpeg-turbo, errors as statuses.
 *
 * libjpeg reports errors through error_exit and warnings through emit_message; both are
 * replaced so nothing is printed and every error unwinds with longjmp to one place.
 * Warnings that mean the picture is incomplete (data ended early, corrupt entropy data)
 * are errors here: other tools pad such files with grey and call them images.
 * An embedded ICC profile (APP2 ICC_PROFILE segments) goes to image_color.c, which
 * converts each decoded row to sRGB before any area averaging (for a thumbnail, rows at
 * the reduced DCT scale, not at the source size).
 */
#include <stddef.h>
#include <stdio.h>

#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_color.h"
#include "image_internal.h"
#include "sx_size.h"

struct jpeg_failure {
	struct jpeg_error_mgr mgr;
	jmp_buf unwind;
	enum sx_status status;
	char message[JMSG_LENGTH_MAX];
};

struct scan_guard {
	struct jpeg_progress_mgr mgr;
	struct jpeg_failure *failure;
};

static enum sx_status status_for_code(int code)
{
	switch (code) {
	case JERR_OUT_OF_MEMORY: return SX_ERR_NO_MEMORY;
	case JERR_NO_BACKING_STORE: return SX_ERR_LIMIT;
	case JERR_ARITH_NOTIMPL:
	case JERR_NOT_COMPILED:
	case JERR_CONVERSION_NOTIMPL:
	case JERR_BAD_PRECISION: return SX_ERR_UNSUPPORTED;
	default: return SX_ERR_BAD_INPUT;
	}
}

static void fail_jpeg(j_common_ptr cinfo, enum sx_status status)
{
	struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
	f->status = status;
	/* format_message writes into our buffer with snprintf: no stdio stream, no syscall. */
	cinfo->err->format_message(cinfo, f->message);
	longjmp(f->unwind, 1);
}

static void on_error_exit(j_common_ptr cinfo)
{
	fail_jpeg(cinfo, status_for_code(cinfo->err->msg_code));
}

static void on_emit_message(j_common_ptr cinfo, int level)
{
	if (level >= 0)
		return; /* trace messages */
	switch (cinfo->err->msg_code) {
	case JWRN_JPEG_EOF:
	case JWRN_HIT_MARKER:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_ARITH_BAD_CODE:
	case JWRN_MUST_RESYNC: fail_jpeg(cinfo, SX_ERR_BAD_INPUT); break;
	default: cinfo->err->num_warnings++;
	}
}

static void on_output_message(j_common_ptr cinfo)
{
	(void)cinfo; /* never print */
}

/* A progressive file can hold any number of scans, each a full pass over the image: cap
 * both the count and the work (scans x pixels), so a small file cannot buy minutes of CPU
 * (694 legal scans over 8000x8000 took over 20 s before the work cap). */
static void on_progress(j_common_ptr cinfo)
{
	struct scan_guard *g = (struct scan_guard *)cinfo->progress;
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (!cinfo->is_decompressor)
		return;
	uint64_t scans = (uint64_t)(d->input_scan_number > 0 ? d->input_scan_number : 0);
	uint64_t work = scans * d->image_width * d->image_height;
	if (scans > SX_JPEG_MAX_SCANS || work > SX_JPEG_MAX_SCAN_PIXELS) {
		struct jpeg_failure *f = g->failure;
		f->status = SX_ERR_LIMIT;
		snprintf(f->message, sizeof f->message,
			 "%llu scans over %ux%u is more work than allowed",
			 (unsigned long long)scans, d->image_width, d->image_height);
		longjmp(f->unwind, 1);
	}
}

static const char *color_name(J_COLOR_SPACE cs)
{
	switch (cs) {
	case JCS_GRAYSCALE: return "gray";
	case JCS_YCbCr: return "ycbcr";
	case JCS_RGB: return "rgb";
	case JCS_CMYK: return "cmyk";
	case JCS_YCCK: return "ycck";
	default: return "unknown";
	}
}

static int read_orientation(j_decompress_ptr cinfo)
{
	for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
		if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
		    memcmp(m->data, "Exif\0\0", 6) == 0)
			return exif_orientation(m->data, m->data_length);
	return 1;
}

static void describe(j_decompress_ptr cinfo, int orientation, struct sx_meta *m)
{
	sx_meta_add_cstring(m, "format", "jpeg");
	sx_meta_add_int(m, "width", cinfo->image_width);
	sx_meta_add_int(m, "height", cinfo->image_height);
	sx_meta_add_int(m, "bit_depth", cinfo->data_precision);
	sx_meta_add_cstring(m, "color_type", color_name(cinfo->jpeg_color_space));
	sx_meta_add_bool(m, "has_alpha", false);
	sx_meta_add_bool(m, "progressive", cinfo->progressive_mode);
	sx_meta_add_int(m, "orientation", orientation);
	sx_meta_add_bool(m, "arithmetic", cinfo->arith_code);
}

/* Rows (or columns) of an n/8 DCT-scaled dimension d that come from image pixels only:
 * the last, partial 8x8 block also holds the encoder's padding, and the scaled IDCT
 * averages it into the output pixel that straddles the edge (ceil(d*n/8) pixels come
 * out, floor(d*n/8) are pure). */
static uint32_t pure_part(uint32_t d, unsigned n)
{
	return (uint32_t)((uint64_t)d * n / 8);
}

static uint32_t at_least(uint32_t target, uint32_t d)
{
	uint32_t block = d < 8 ? d : 8;
	return target > block ? target : block;
}

/* libjpeg's own DCT scaling: the smallest n/8 whose padding-free part still covers the
 * target, and keeps a full block (8 pixels, or the whole dimension if smaller) in each
 * direction. A strip a few pixels tall (16000x2) is therefore decoded at full scale:
 * at 1/8 its one output row would be 2 rows of picture averaged with 6 of padding (a grey
 * 128 strip padded with black came out 32). Returns through *keep_w, *keep_h the part of
 * the output to keep (decode_pixels drops the straddling edge). */
static void choose_scale(j_decompress_ptr cinfo, uint32_t tw, uint32_t th, uint32_t *keep_w,
			 uint32_t *keep_h)
{
	uint32_t w = cinfo->image_width, h = cinfo->image_height;
	unsigned n = 1;
	while (n < 8 && (pure_part(w, n) < at_least(tw, w) || pure_part(h, n) < at_least(th, h)))
		n++;
	cinfo->scale_num = n;
	cinfo->scale_denom = 8;
	jpeg_calc_output_dimensions(cinfo);
	*keep_w = n == 8 ? cinfo->output_width : pure_part(w, n);
	*keep_h = n == 8 ? cinfo->output_height : pure_part(h, n);
}

/* Pillow's CMYK conversion: Adobe files store inverted ink values. */
static void cmyk_row_to_rgba(uint8_t *row, uint32_t w, int inverted)
{
	for (uint32_t x = 0; x < w; x++) {
		uint8_t *p = row + (size_t)x * 4;
		unsigned c = p[0], m = p[1], y = p[2], k = p[3];
		if (inverted) {
			c = 255 - c;
			m = 255 - m;
			y = 255 - y;
			k = 255 - k;
		}
		unsigned nk = 255 - k, t;
		t = c * nk + 128;
		p[0] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
		t = m * nk + 128;
		p[1] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
		t = y * nk + 128;
		p[2] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
		p[3] = 255;
	}
}

/* Everything a decode may leave behind lives here, in the caller's frame, so it stays
 * well-defined after a longjmp out of libjpeg. */
struct jpeg_job {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_failure failure;
	struct scan_guard guard;
	struct image_rows rows; /* where decoded rows go (image_finish.h) */
	uint8_t *tail;		/* one dropped row past keep_h */
	int orientation;
	uint32_t keep_w, keep_h; /* the decoded part handed on (padding-free edges) */
	struct color_source color;
	uint8_t *icc; /* the profile's segments joined */
	struct color_plan plan;
};

/* APP2 "ICC_PROFILE\0", sequence number, count, payload (ICC.1 annex B.4). Segments may
 * come in any order; each of 1..count exactly once under one count, or the profile is
 * ignored with the reason (never a partial profile). */
static void read_icc(struct jpeg_job *job)
{
	const uint8_t *parts[256];
	size_t sizes[256], total = 0;
	unsigned count = 0, seen = 0;
	memset(sizes, 0, sizeof sizes);
	memset(parts, 0, sizeof parts);
	for (jpeg_saved_marker_ptr m = job->cinfo.marker_list; m; m = m->next) {
		if (m->marker != JPEG_APP0 + 2 || m->data_length < 14 ||
		    memcmp(m->data, "ICC_PROFILE", 12) != 0)
			continue;
		unsigned seq = m->data[12], n = m->data[13];
		if (count == 0)
			count = n;
		if (n == 0 || n != count || seq == 0 || seq > n) {
			job->color.icc_problem = "ICC_PROFILE segments disagree on their numbering";
			return;
		}
		if (parts[seq]) {
			job->color.icc_problem = "an ICC_PROFILE segment appears twice";
			return;
		}
		parts[seq] = m->data + 14;
		sizes[seq] = m->data_length - 14;
		total += sizes[seq];
		seen++;
	}
	if (seen == 0)
		return;
	if (seen != count) {
		job->color.icc_problem = "ICC_PROFILE segments are missing";
		return;
	}
	if (total > SX_COLOR_MAX_PROFILE_BYTES) {
		job->color.icc_problem = "profile larger than the cap";
		return;
	}
	job->icc = malloc(total ? total : 1);
	if (!job->icc) {
		job->color.icc_problem = "no memory for the profile";
		return;
	}
	size_t at = 0;
	for (unsigned seq = 1; seq <= count; seq++) {
		memcpy(job->icc + at, parts[seq], sizes[seq]);
		at += sizes[seq];
	}
	job->color.icc = job->icc;
	job->color.icc_size = total;
}

/* What libjpeg hands over (choose_output): RGBA, or CMYK as stored (Adobe: inverted). */
static enum color_layout color_layout_of(j_decompress_ptr cinfo)
{
	if (cinfo->jpeg_color_space != JCS_CMYK && cinfo->jpeg_color_space != JCS_YCCK)
		return COLOR_LAYOUT_RGBA8;
	return cinfo->saw_Adobe_marker ? COLOR_LAYOUT_CMYK8_INVERTED : COLOR_LAYOUT_CMYK8;
}

static enum color_space image_space(J_COLOR_SPACE cs)
{
	switch (cs) {
	case JCS_GRAYSCALE: return COLOR_SPACE_GRAY;
	case JCS_CMYK:
	case JCS_YCCK: return COLOR_SPACE_CMYK;
	default: return COLOR_SPACE_RGB;
	}
}

/* RGBA, or straight RGB when the answer is RGB anyway and nothing converts the rows
 * afterwards (image_rows_rgb_ok: a JPEG is always opaque). */
static enum sx_status choose_output(const struct sx_request *req, struct jpeg_job *job,
				    struct sx_result *result)
{
	j_decompress_ptr cinfo = &job->cinfo;
	bool rgb = image_rows_rgb_ok(req, job->orientation) && !color_plan_converts(&job->plan);
	switch (cinfo->jpeg_color_space) {
	case JCS_GRAYSCALE:
	case JCS_YCbCr:
	case JCS_RGB: cinfo->out_color_space = rgb ? JCS_EXT_RGB : JCS_EXT_RGBA; return SX_OK;
	case JCS_CMYK:
	case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; return SX_OK;
	default:
		return sx_fail(result, SX_ERR_UNSUPPORTED,
			       "JPEG with %d components in an unknown colour space",
			       cinfo->num_components);
	}
}

/* A thumbnail decoded at a reduced DCT scale is area-averaged afterwards anyway: no
 * fancy (interpolating) chroma upsampling there, as in Pillow's draft mode. Measured
 * (issue 21 notes): thumbnail errors against Pillow unchanged or lower (jpeg_422.jpg
 * 3.66 -> 3.44); less work (replication, not interpolation), though its time was not
 * separable from noise on the loaded test machine. The fast integer IDCT (JDCT_IFAST,
 * which Pillow's draft also uses) is NOT: on 4:2:0 files at 4/8 it moved the 48 px
 * thumbnail of fixtures/color/jpeg_p3.jpg from 0.71 to 1.08 of Pillow's reference, for
 * no gain measurable on this machine. Full decodes keep libjpeg's defaults. */
static void choose_speed(j_decompress_ptr cinfo)
{
	if (cinfo->scale_num < cinfo->scale_denom)
		cinfo->do_fancy_upsampling = FALSE;
}

static enum sx_status decode_pixels(const struct sx_request *req, struct jpeg_job *job,
				    struct sx_result *result)
{
	j_decompress_ptr cinfo = &job->cinfo;
	int cmyk = cinfo->out_color_space == JCS_CMYK;
	bool convert = color_plan_converts(&job->plan);
	if (req->mode == SX_MODE_THUMBNAIL) {
		uint32_t tw, th;
		thumbnail_target(req, cinfo->image_width, cinfo->image_height, job->orientation,
				 &tw, &th);
		choose_scale(cinfo, tw, th, &job->keep_w, &job->keep_h);
		choose_speed(cinfo);
	}
	jpeg_start_decompress(cinfo);
	uint32_t w = cinfo->output_width, h = cinfo->output_height;
	if (req->mode != SX_MODE_THUMBNAIL || job->keep_w > w || job->keep_h > h ||
	    job->keep_w == 0 || job->keep_h == 0) {
		job->keep_w = w;
		job->keep_h = h;
	}
	unsigned channels = (unsigned)cinfo->output_components;
	if (channels != 4 && (channels != 3 || cmyk || convert))
		return sx_fail(result, SX_ERR_INTERNAL, "unexpected JPEG output layout");
	/* Rows go on as they come: to the scaler for a thumbnail, never held whole. */
	enum sx_status status =
	    image_rows_open(req, &job->rows, job->keep_w, job->keep_h, w, cinfo->image_width,
			    cinfo->image_height, job->orientation, channels, result);
	if (status != SX_OK)
		return status;
	while (cinfo->output_scanline < h) {
		bool kept = cinfo->output_scanline < job->keep_h;
		if (!kept && !job->tail) {
			/* The straddling bottom rows: read (libjpeg wants every one), dropped. */
			job->tail = malloc((size_t)w * channels);
			if (!job->tail)
				return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a row");
		}
		JSAMPROW row = kept ? image_rows_next(&job->rows) : job->tail;
		if (jpeg_read_scanlines(cinfo, &row, 1) != 1)
			return sx_fail(result, SX_ERR_BAD_INPUT, "JPEG data ended early");
		if (!kept)
			continue;
		/* Each row to sRGB as it comes, before any scaling (image_color.h); the
		 * straddling right edge is dropped, so it is not converted. */
		if (convert)
			color_apply(&job->plan, row, row, job->keep_w);
		else if (cmyk)
			cmyk_row_to_rgba(row, job->keep_w, cinfo->saw_Adobe_marker);
		image_rows_commit(&job->rows);
	}
	/* Reads on to EOI: a file cut after its last scan line still ended early. */
	jpeg_finish_decompress(cinfo);
	return SX_OK;
}

/* Holds the setjmp; every libjpeg call that can fail runs below it. */
static enum sx_status run_jpeg(struct jpeg_job *job, const struct sx_request *req,
			       const uint8_t *data, size_t size, struct sx_result *result)
{
	j_decompress_ptr cinfo = &job->cinfo;
	if (setjmp(job->failure.unwind))
		return sx_fail(result, job->failure.status, "JPEG: %s", job->failure.message);
	jpeg_create_decompress(cinfo);
	job->guard.mgr.progress_monitor = on_progress;
	job->guard.failure = &job->failure;
	cinfo->progress = &job->guard.mgr;
	cinfo->mem->max_memory_to_use = (long)req->memory;
	jpeg_mem_src(cinfo, data, (unsigned long)size);
	jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
	jpeg_save_markers(cinfo, JPEG_APP0 + 2, 0xFFFF);
	jpeg_read_header(cinfo, TRUE);
	job->orientation = read_orientation(cinfo);
	read_icc(job);
	job->color.space = image_space(cinfo->jpeg_color_space);
	if (req->mode == SX_MODE_PROBE) {
		describe(cinfo, job->orientation, &result->meta);
		color_plan_open(&job->plan, &job->color, color_layout_of(cinfo), false);
		color_describe(&job->plan, &result->meta);
		result->kind = SX_RESULT_META;
		return SX_OK;
	}
	/* Before jpeg_start_decompress, which allocates in proportion to the image. */
	enum sx_status status =
	    check_pixel_cap(req, cinfo->image_width, cinfo->image_height, result);
	if (status == SX_OK && req->color == SX_COLOR_SRGB)
		color_plan_open(&job->plan, &job->color, color_layout_of(cinfo), true);
	if (status == SX_OK)
		status = choose_output(req, job, result);
	if (status == SX_OK)
		status = decode_pixels(req, job, result);
	return status;
}

enum sx_status jpeg_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			    struct sx_result *result)
{
	struct jpeg_job job;
	memset(&job, 0, sizeof job);
	job.orientation = 1;
	job.cinfo.err = jpeg_std_error(&job.failure.mgr);
	job.failure.mgr.error_exit = on_error_exit;
	job.failure.mgr.emit_message = on_emit_message;
	job.failure.mgr.output_message = on_output_message;
	if (size > 0xFFFFFFFFul)
		return sx_fail(result, SX_ERR_LIMIT, "JPEG input larger than 4 GiB");

	enum sx_status status = run_jpeg(&job, req, data, size, result);
	jpeg_destroy_decompress(&job.cinfo);
	color_plan_close(&job.plan);
	free(job.icc);
	free(job.tail);
	if (status == SX_OK && req->mode != SX_MODE_PROBE)
		status = image_rows_finish(req, &job.rows, result);
	image_rows_close(&job.rows);
	return status;
}
