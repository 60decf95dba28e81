/* webp_decode.c: WebP probe and decode through libwebp (demux API for the RIFF container),
 * to 8-bit RGBA, errors as statuses.
 *
 * The RIFF size is checked against the input, then WebPDemux (allow_partial off) walks and
 * bounds-checks every chunk before any bitstream is touched: a file whose sizes lie is bad
 * input, never a partial image. The canvas goes through the pixel cap before libwebp
 * allocates. A still image is decoded into our own buffer, scaled by libwebp itself
 * (use_scaling) for a thumbnail; an animation's first frame is composited by
 * WebPAnimDecoder (frames outside the canvas are refused by the demuxer). ICCP goes to
 * image_color.c, EXIF orientation is applied as for JPEG. A --frames request takes every frame
 * from WebPAnimDecoder, each converted, scaled and turned like the first. libwebp runs
 * single-threaded (use_threads 0).
 */
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "image_color.h"
#include "image_frames.h"
#include "image_internal.h"
#include "sx_bytes.h"
#include "sx_size.h"

struct webp_job {
	WebPDemuxer *demux;
	uint32_t width, height, flags, frames;
	int orientation;
	uint8_t *exif_copy;
	struct color_source color;
	struct color_plan plan;
};

/* WebP's EXIF chunk is a bare TIFF block, though some writers keep JPEG's "Exif\0\0". */
static int read_orientation(struct webp_job *job)
{
	WebPChunkIterator it;
	int orientation = 1;
	if (!(job->flags & EXIF_FLAG) || !WebPDemuxGetChunk(job->demux, "EXIF", 1, &it))
		return 1;
	if (it.chunk.size >= 6 && memcmp(it.chunk.bytes, "Exif\0\0", 6) == 0) {
		orientation = exif_orientation(it.chunk.bytes, it.chunk.size);
	} else if (it.chunk.size <= SX_WEBP_MAX_EXIF_BYTES) {
		uint8_t *p = malloc(it.chunk.size + 6);
		if (p) {
			memcpy(p, "Exif\0\0", 6);
			memcpy(p + 6, it.chunk.bytes, it.chunk.size);
			orientation = exif_orientation(p, it.chunk.size + 6);
			free(p);
		}
	}
	WebPDemuxReleaseChunkIterator(&it);
	return orientation;
}

static void gather_color(struct webp_job *job)
{
	WebPChunkIterator it;
	job->color.space = COLOR_SPACE_RGB;
	if ((job->flags & ICCP_FLAG) && WebPDemuxGetChunk(job->demux, "ICCP", 1, &it)) {
		/* The bytes stay in the input, which outlives the plan. */
		job->color.icc = it.chunk.bytes;
		job->color.icc_size = it.chunk.size;
		WebPDemuxReleaseChunkIterator(&it);
	}
}

/* Animation info: frame count (the demuxer's, already bounded by the input), loop count,
 * total duration in ms, counted up to SX_ANIM_MAX_FRAMES_COUNTED frames. */
static void describe(struct webp_job *job, struct sx_meta *m)
{
	WebPIterator it;
	bool lossless = false, alpha = (job->flags & ALPHA_FLAG) != 0;
	uint64_t duration = 0;
	uint32_t counted = 0;
	if (WebPDemuxGetFrame(job->demux, 1, &it)) {
		WebPBitstreamFeatures f;
		if (WebPGetFeatures(it.fragment.bytes, it.fragment.size, &f) == VP8_STATUS_OK) {
			lossless = f.format == 2;
			alpha = alpha || f.has_alpha;
		}
		do {
			duration += (uint32_t)(it.duration > 0 ? it.duration : 0);
		} while (++counted < SX_ANIM_MAX_FRAMES_COUNTED && WebPDemuxNextFrame(&it));
		WebPDemuxReleaseIterator(&it);
	}
	bool animated = (job->flags & ANIMATION_FLAG) != 0;
	sx_meta_add_cstring(m, "format", "webp");
	sx_meta_add_int(m, "width", job->width);
	sx_meta_add_int(m, "height", job->height);
	sx_meta_add_int(m, "bit_depth", 8);
	sx_meta_add_cstring(m, "color_type", alpha ? "rgba" : "rgb");
	sx_meta_add_bool(m, "has_alpha", alpha);
	sx_meta_add_bool(m, "progressive", false);
	sx_meta_add_cstring(m, "compression", lossless ? "lossless" : "lossy");
	sx_meta_add_int(m, "orientation", job->orientation);
	sx_meta_add_bool(m, "animated", animated);
	sx_meta_add_int(m, "frame_count", job->frames < counted ? counted : job->frames);
	sx_meta_add_bool(m, "frame_count_capped", job->frames > counted);
	sx_meta_add_int(m, "loop_count",
			animated ? WebPDemuxGetI(job->demux, WEBP_FF_LOOP_COUNT) : 1);
	sx_meta_add_int(m, "duration", (int64_t)duration);
	/* XMP: only whether the chunk is there (the VP8X flag and the chunk itself); none of
	 * its text leaves the extractor. */
	WebPChunkIterator xmp;
	bool has_xmp = (job->flags & XMP_FLAG) && WebPDemuxGetChunk(job->demux, "XMP ", 1, &xmp);
	if (has_xmp)
		WebPDemuxReleaseChunkIterator(&xmp);
	sx_meta_add_bool(m, "xmp", has_xmp);
}

/* A still image: frame 1's bitstream decoded into our buffer, at the thumbnail size when
 * libwebp can scale (it never upscales here: the target fits in the source). */
static enum sx_status decode_still(const struct sx_request *req, struct webp_job *job,
				   uint8_t **out, uint32_t *ow, uint32_t *oh,
				   struct sx_result *result)
{
	WebPIterator it;
	if (!WebPDemuxGetFrame(job->demux, 1, &it))
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: no image frame");
	WebPDecoderConfig config;
	if (!WebPInitDecoderConfig(&config)) {
		WebPDemuxReleaseIterator(&it);
		return sx_fail(result, SX_ERR_INTERNAL, "WebP: decoder version mismatch");
	}
	uint32_t w = job->width, h = job->height;
	if ((uint32_t)it.width != w || (uint32_t)it.height != h || it.x_offset || it.y_offset) {
		WebPDemuxReleaseIterator(&it);
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: image does not fill its canvas");
	}
	if (req->mode == SX_MODE_THUMBNAIL) {
		uint32_t tw, th;
		thumbnail_target(req, w, h, job->orientation, &tw, &th);
		if (tw < w || th < h) {
			config.options.use_scaling = 1;
			config.options.scaled_width = (int)tw;
			config.options.scaled_height = (int)th;
			w = tw;
			h = th;
		}
	}
	size_t bytes;
	if (!sx_mul3_size(w, h, 4, &bytes)) {
		WebPDemuxReleaseIterator(&it);
		return sx_fail(result, SX_ERR_LIMIT, "WebP: %ux%u is too large", w, h);
	}
	uint8_t *rgba = malloc(bytes);
	if (!rgba) {
		WebPDemuxReleaseIterator(&it);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image", w, h);
	}
	config.options.use_threads = 0;
	config.output.colorspace = MODE_RGBA;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = rgba;
	config.output.u.RGBA.stride = (int)w * 4;
	config.output.u.RGBA.size = bytes;
	VP8StatusCode st = WebPDecode(it.fragment.bytes, it.fragment.size, &config);
	WebPFreeDecBuffer(&config.output);
	WebPDemuxReleaseIterator(&it);
	if (st != VP8_STATUS_OK) {
		free(rgba);
		return sx_fail(result,
			       st == VP8_STATUS_OUT_OF_MEMORY ? SX_ERR_NO_MEMORY : SX_ERR_BAD_INPUT,
			       "WebP: libwebp status %d", (int)st);
	}
	*out = rgba;
	*ow = w;
	*oh = h;
	return SX_OK;
}

/* An animation: the first frame composited on the canvas by WebPAnimDecoder, copied out
 * (the decoder owns its canvas). */
static enum sx_status decode_first_frame(const uint8_t *data, size_t size, struct webp_job *job,
					 uint8_t **out, struct sx_result *result)
{
	WebPAnimDecoderOptions opt;
	if (!WebPAnimDecoderOptionsInit(&opt))
		return sx_fail(result, SX_ERR_INTERNAL, "WebP: decoder version mismatch");
	opt.color_mode = MODE_RGBA;
	opt.use_threads = 0;
	WebPData wd = {data, size};
	WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &opt);
	if (!dec)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: libwebp refused the animation");
	uint8_t *canvas;
	int ts;
	size_t bytes = (size_t)job->width * job->height * 4; /* under the pixel cap */
	enum sx_status status = SX_OK;
	if (!WebPAnimDecoderGetNext(dec, &canvas, &ts))
		status = sx_fail(result, SX_ERR_BAD_INPUT, "WebP: the first frame does not decode");
	else if (!(*out = malloc(bytes)))
		status = sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image",
				 job->width, job->height);
	else
		memcpy(*out, canvas, bytes);
	WebPAnimDecoderDelete(dec);
	return status;
}

/* --frames: every frame composited by WebPAnimDecoder into the sink, until it is full;
 * a frame's duration is the gap to the next timestamp (the decoder's running sum). */
static enum sx_status decode_frames(const struct sx_request *req, const uint8_t *data, size_t size,
				    struct webp_job *job, struct sx_result *result)
{
	WebPAnimDecoderOptions opt;
	if (!WebPAnimDecoderOptionsInit(&opt))
		return sx_fail(result, SX_ERR_INTERNAL, "WebP: decoder version mismatch");
	opt.color_mode = MODE_RGBA;
	opt.use_threads = 0;
	WebPData wd = {data, size};
	struct frame_sink sink;
	if (req->color == SX_COLOR_SRGB)
		color_plan_open(&job->plan, &job->color, COLOR_LAYOUT_RGBA8, true);
	enum sx_status status =
	    frames_open(&sink, req, job->width, job->height, job->orientation, &job->plan, result);
	if (status != SX_OK)
		return status;
	WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &opt);
	if (!dec) {
		frames_discard(&sink);
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: libwebp refused the animation");
	}
	int before = 0;
	while (status == SX_OK && !frames_full(&sink) && WebPAnimDecoderHasMoreFrames(dec)) {
		uint8_t *canvas;
		int ts;
		if (!WebPAnimDecoderGetNext(dec, &canvas, &ts)) {
			status = sx_fail(result, SX_ERR_BAD_INPUT, "WebP: frame %u does not decode",
					 sink.count + 1);
			break;
		}
		status =
		    frames_add(&sink, canvas, ts > before ? (uint32_t)(ts - before) : 0, result);
		before = ts;
	}
	WebPAnimDecoderDelete(dec);
	if (status != SX_OK) {
		frames_discard(&sink);
		return status;
	}
	return frames_close(&sink, (uint32_t)WebPDemuxGetI(job->demux, WEBP_FF_LOOP_COUNT), result);
}

static enum sx_status run_webp(struct webp_job *job, const struct sx_request *req,
			       const uint8_t *data, size_t size, struct sx_result *result)
{
	/* "RIFF" size "WEBP": the size counts from byte 8 and must fit the input. */
	if (size < 20)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: file is truncated");
	uint32_t riff = sx_get_le32(data + 4);
	if (riff < 12 || riff > size - 8 || (riff & 1))
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WebP: RIFF size %u does not match the %zu-byte input", riff, size);
	WebPData wd = {data, (size_t)riff + 8};
	WebPDemuxState state;
	job->demux = WebPDemuxInternal(&wd, 0, &state, WEBP_DEMUX_ABI_VERSION);
	if (!job->demux)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WebP: the RIFF container is invalid (%s)",
			       state == WEBP_DEMUX_PARSING_HEADER ? "truncated" : "bad chunk");
	job->width = WebPDemuxGetI(job->demux, WEBP_FF_CANVAS_WIDTH);
	job->height = WebPDemuxGetI(job->demux, WEBP_FF_CANVAS_HEIGHT);
	job->flags = WebPDemuxGetI(job->demux, WEBP_FF_FORMAT_FLAGS);
	job->frames = WebPDemuxGetI(job->demux, WEBP_FF_FRAME_COUNT);
	if (job->width > SX_WEBP_MAX_SIDE || job->height > SX_WEBP_MAX_SIDE)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WebP: canvas %ux%u is over the format's limit", job->width,
			       job->height);
	job->orientation = read_orientation(job);
	gather_color(job);
	if (req->mode == SX_MODE_PROBE) {
		describe(job, &result->meta);
		color_plan_open(&job->plan, &job->color, COLOR_LAYOUT_RGBA8, false);
		color_describe(&job->plan, &result->meta);
		result->kind = SX_RESULT_META;
		return SX_OK;
	}
	enum sx_status status = check_pixel_cap(req, job->width, job->height, result);
	if (status != SX_OK)
		return status;
	if (req->frames && (job->flags & ANIMATION_FLAG))
		return decode_frames(req, wd.bytes, wd.size, job, result);
	uint8_t *rgba = NULL;
	uint32_t w = job->width, h = job->height;
	if (job->flags & ANIMATION_FLAG)
		status = decode_first_frame(wd.bytes, wd.size, job, &rgba, result);
	else
		status = decode_still(req, job, &rgba, &w, &h, result);
	if (status != SX_OK)
		return status;
	if (req->color == SX_COLOR_SRGB) {
		color_plan_open(&job->plan, &job->color, COLOR_LAYOUT_RGBA8, true);
		if (color_plan_converts(&job->plan))
			color_apply(&job->plan, rgba, rgba, (size_t)w * h);
	}
	return finish_image(req, rgba, w, h, job->width, job->height, job->orientation, result);
}

enum sx_status webp_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			    struct sx_result *result)
{
	struct webp_job job;
	memset(&job, 0, sizeof job);
	enum sx_status status = run_webp(&job, req, data, size, result);
	color_plan_close(&job.plan);
	WebPDemuxDelete(job.demux);
	return status;
}
