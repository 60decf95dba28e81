/* video_frame.c: a decoded frame to the answer: swscale to RGBA, box fitting with the
 * display aspect, rotation, alpha drop. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "sx_scale.h"
#include "sx_size.h"
#include "video_internal.h"

const enum AVPixelFormat video_pixel_formats[] = {
    AV_PIX_FMT_YUV420P,	    AV_PIX_FMT_YUV422P,	    AV_PIX_FMT_YUV444P,	    AV_PIX_FMT_YUVJ420P,
    AV_PIX_FMT_YUVJ422P,    AV_PIX_FMT_YUVJ444P,    AV_PIX_FMT_GBRP,	    AV_PIX_FMT_GRAY8,
    AV_PIX_FMT_YUV420P9LE,  AV_PIX_FMT_YUV422P9LE,  AV_PIX_FMT_YUV444P9LE,  AV_PIX_FMT_GBRP9LE,
    AV_PIX_FMT_GRAY9LE,	    AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE,
    AV_PIX_FMT_GBRP10LE,    AV_PIX_FMT_GRAY10LE,    AV_PIX_FMT_YUV420P12LE, AV_PIX_FMT_YUV422P12LE,
    AV_PIX_FMT_YUV444P12LE, AV_PIX_FMT_GBRP12LE,    AV_PIX_FMT_GRAY12LE,    AV_PIX_FMT_YUV420P14LE,
    AV_PIX_FMT_YUV422P14LE, AV_PIX_FMT_YUV444P14LE, AV_PIX_FMT_GBRP14LE,
};
const size_t video_pixel_format_count = sizeof video_pixel_formats / sizeof video_pixel_formats[0];

bool video_pixel_format_supported(int format)
{
	for (size_t i = 0; i < video_pixel_format_count; i++)
		if (video_pixel_formats[i] == format)
			return true;
	return false;
}

int stream_rotation(const AVStream *st)
{
	size_t size = 0;
	const uint8_t *sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	if (!sd || size < 9 * sizeof(int32_t))
		return 0;
	/* av_display_rotation_get() answers counter-clockwise; NaN for a degenerate matrix. */
	double ccw = av_display_rotation_get((const int32_t *)(const void *)sd);
	if (!isfinite(ccw))
		return 0;
	long quarters = lround(-ccw / 90.0) % 4;
	return (int)(quarters < 0 ? quarters + 4 : quarters) * 90;
}

uint32_t display_width(uint32_t w, AVRational sar)
{
	if (sar.num <= 0 || sar.den <= 0)
		return w;
	/* w < 2^32 and num < 2^31: the product fits in 64 bits. */
	uint64_t dw = ((uint64_t)w * (uint64_t)sar.num + (uint64_t)sar.den / 2) / (uint64_t)sar.den;
	if (dw < 1)
		return 1;
	return dw > UINT32_MAX ? UINT32_MAX : (uint32_t)dw;
}

static int orientation_for(int rotation)
{
	switch (rotation) {
	case 90: return 6;
	case 180: return 3;
	case 270: return 8;
	default: return 1;
	}
}

/* One swscale pass from `frame` to tightly packed `out_fmt` (RGBA, or RGBA64 for the HDR
 * path, `px` bytes a pixel) of tw x th with `flags`. */
static enum sx_status convert_to(const AVFrame *frame, uint32_t tw, uint32_t th, int flags,
				 enum AVPixelFormat out_fmt, size_t px, uint8_t **rgba,
				 struct sx_result *result)
{
	uint32_t w = (uint32_t)frame->width, h = (uint32_t)frame->height;
	const char *fmt_name = av_get_pix_fmt_name(frame->format);
	size_t row = (size_t)tw * px, stride, bytes;
	/* Some of swscale's SIMD writers round each row up to a multiple of 8 pixels: give it
	 * 64-byte-aligned rows and a spare tail, then pack the rows tightly. */
	stride = (row + 63) & ~(size_t)63;
	if (!sx_mul_size(stride, th, &bytes) || !sx_add_size(bytes, 64, &bytes) ||
	    stride > INT_MAX || tw > INT_MAX || th > INT_MAX)
		return sx_fail(result, SX_ERR_LIMIT, "%ux%u is too large to convert", tw, th);
	struct SwsContext *sws = sws_getContext((int)w, (int)h, frame->format, (int)tw, (int)th,
						out_fmt, flags, NULL, NULL, NULL);
	if (!sws)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "cannot convert %ux%u %s to RGBA %ux%u",
			       w, h, fmt_name ? fmt_name : "?", tw, th);
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
	if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
		/* The matrix and range the stream declares, as the ffmpeg CLI's scale filter does;
		 * unspecified means BT.601, limited range (full for the yuvj formats). */
		int full = frame->color_range == AVCOL_RANGE_JPEG ||
			   frame->format == AV_PIX_FMT_YUVJ420P ||
			   frame->format == AV_PIX_FMT_YUVJ422P ||
			   frame->format == AV_PIX_FMT_YUVJ444P;
		sws_setColorspaceDetails(sws, sws_getCoefficients(frame->colorspace), full,
					 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16,
					 1 << 16);
	}
	uint8_t *out = malloc(bytes);
	if (!out) {
		sws_freeContext(sws);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u picture", tw, th);
	}
	uint8_t *dst[4] = {out, NULL, NULL, NULL};
	int dst_stride[4] = {(int)stride, 0, 0, 0};
	int rows = sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, (int)h,
			     dst, dst_stride);
	sws_freeContext(sws);
	if (rows != (int)th) {
		free(out);
		return sx_fail(result, SX_ERR_UNSUPPORTED, "swscale gave %d of %u rows", rows, th);
	}
	for (uint32_t y = 1; y < th; y++)
		memmove(out + (size_t)y * row, out + (size_t)y * stride, row);
	*rgba = out;
	return SX_OK;
}

static enum sx_status convert(const AVFrame *frame, uint32_t tw, uint32_t th, int flags,
			      uint8_t **rgba, struct sx_result *result)
{
	if (!video_frame_is_hdr(frame))
		return convert_to(frame, tw, th, flags, AV_PIX_FMT_RGBA, 4, rgba, result);
	/* PQ or HLG: 16-bit non-linear RGB at the same size with the same filter, then our
	 * tone mapping to 8-bit (video_hdr.c). */
	uint8_t *deep;
	enum sx_status status =
	    convert_to(frame, tw, th, flags, AV_PIX_FMT_RGBA64LE, 8, &deep, result);
	if (status != SX_OK)
		return status;
	status = hdr_to_sdr(frame, (const uint16_t *)(const void *)deep, tw, th, rgba, result);
	free(deep);
	return status;
}

enum sx_status scale_to_rgba(const AVFrame *frame, uint32_t tw, uint32_t th, uint8_t **rgba,
			     struct sx_result *result)
{
	uint32_t w = (uint32_t)frame->width, h = (uint32_t)frame->height;
	/* Full size: the CLI's own flags, so the picture is the one `ffmpeg` extracts. */
	if (tw == w && th == h)
		return convert(frame, w, h, SWS_BICUBIC, rgba, result);
	/* Shrinking by 2 or more (or stretching an axis for the aspect ratio): swscale's area
	 * filter, with chroma interpolated to full width first; without that, subsampled
	 * chroma is averaged at half resolution (6.5 mean error against a box filter on a
	 * 720p frame, 0.8 with it). One pass, never a full-size RGBA copy. */
	if (tw > w || th > h || ((uint64_t)tw * 2 <= w && (uint64_t)th * 2 <= h))
		return convert(frame, tw, th, SWS_AREA | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
			       rgba, result);
	/* Shrinking by less than 2, where swscale's area filter drifts from a true area
	 * average: convert at full size (at most 4 times the box) and average exactly. */
	uint8_t *full;
	enum sx_status status = convert(frame, w, h, SWS_BICUBIC, &full, result);
	if (status != SX_OK)
		return status;
	*rgba = sx_downscale_rgba(full, w, h, tw, th);
	free(full);
	if (!*rgba)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to scale to %ux%u", tw, th);
	return SX_OK;
}

enum sx_status frame_to_image(const struct sx_request *req, const AVFrame *frame, AVRational sar,
			      int rotation, struct sx_result *result)
{
	if (frame->width <= 0 || frame->height <= 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "decoded picture has no size");
	uint32_t w = (uint32_t)frame->width, h = (uint32_t)frame->height;
	if ((uint64_t)w * h > req->max_pixels)
		return sx_fail(result, SX_ERR_LIMIT, "%ux%u picture exceeds the cap of %llu pixels",
			       w, h, (unsigned long long)req->max_pixels);
	int swap = rotation == 90 || rotation == 270;
	uint32_t tw = w, th = h;
	if (req->mode == SX_MODE_THUMBNAIL) {
		/* The box holds the picture as it is shown: aspect ratio applied, then turned. */
		sx_fit_box_oriented(display_width(w, sar), h, req->box_w, req->box_h, swap, &tw,
				    &th);
	}
	uint8_t *rgba;
	enum sx_status status = scale_to_rgba(frame, tw, th, &rgba, result);
	if (status != SX_OK)
		return status;
	return sx_finish_rgba(req, rgba, tw, th, orientation_for(rotation), result);
}
