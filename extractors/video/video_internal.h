/* video_internal.h: what the parts of sx-video share (not exported beyond it).
 *
 * Phase: decode-core code (no syscalls, memory through malloc), callable before and after
 * the strict line. Every function that fails returns a status and leaves a reason in
 * result->detail, holding nothing.
 */
#ifndef VIDEO_INTERNAL_H
#define VIDEO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "sx_extract.h"
#include "sx_family.h"

/* The demuxers and decoders FFmpeg may use, as its whitelist options spell them. */
#define VIDEO_FORMAT_WHITELIST "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,h264,hevc,ivf"
/* AV1 is decoded by libdav1d (FFmpeg 5.1's native "av1" decoder needs a hardware
 * accelerator), configured single-threaded in video_core.c. */
#define VIDEO_CODEC_WHITELIST "h264,hevc,vp8,vp9,libdav1d"

/* video_io.c: the input as libavformat sees it. */

struct memory_input {
	const uint8_t *data;
	size_t size;
	int64_t pos;
};

/* An AVIOContext reading (and seeking in) `in` only; NULL when out of memory.
 * close_memory_io() frees it and its buffer and sets *pb to NULL. */
AVIOContext *open_memory_io(struct memory_input *in);
void close_memory_io(AVIOContext **pb);

/* Picks the demuxer by content: the probes of the whitelisted demuxers only, over the
 * first bytes of the input. SX_ERR_UNSUPPORTED (with what the data looks like) when none
 * of them claims it. */
enum sx_status choose_demuxer(const uint8_t *data, size_t size, const AVInputFormat **demuxer,
			      struct sx_result *result);

/* SX_ERR_BAD_INPUT when a top-level moov box of an MP4/MOV ends past the end of `data`
 * (mp4_boxes.c); SX_OK otherwise, whatever else the file holds. */
enum sx_status check_mp4_boxes(const uint8_t *data, size_t size, struct sx_result *result);

/* One extraction's state (video_core.c owns it and releases it in one place, whatever
 * happened; the demux and probe parts fill and read it). */
struct video_job {
	struct memory_input input;
	AVIOContext *pb;
	AVFormatContext *fmt;
	AVCodecContext *decoder;
	AVCodecParserContext *parser; /* reads the parameter sets ahead of the decoder */
	AVCodecContext *parser_ctx;
	AVPacket *packet;
	AVFrame *frame;
	int stream; /* the chosen video stream */
	bool has_audio;
	int64_t first_pts; /* earliest timestamp among the packets read, or AV_NOPTS_VALUE */
};

/* video_errors.c: FFmpeg error codes as our statuses. */

/* A static text for an AVERROR (av_strerror() may reach strerror_r and the locale). */
const char *video_error_text(int err);
/* SX_ERR_NO_MEMORY, SX_ERR_UNSUPPORTED or SX_ERR_BAD_INPUT for `err`, with "what: text". */
enum sx_status fail_av(struct sx_result *result, int err, const char *what);

/* video_demux.c: the container and the stream. */

/* Opens the container chosen by choose_demuxer() over `data` (whitelisted demuxers and
 * decoders, no protocol, no nested input) into job->fmt. */
enum sx_status open_container(struct video_job *job, const uint8_t *data, size_t size,
			      struct sx_result *result);
/* Keeps the H.264/HEVC video streams and discards every other one; SX_ERR_LIMIT for a
 * declared size over the cap, SX_ERR_UNSUPPORTED when there is none. Notes has_audio. */
enum sx_status screen_streams(struct video_job *job, const struct sx_request *req,
			      struct sx_result *result);
/* job->stream: the largest of them (as the ffmpeg CLI picks); the others are discarded. */
void pick_stream(struct video_job *job);

/* video_probe.c: the probe answer, from the container and the decoded first picture. */
void describe_video(struct video_job *job, const uint8_t *data, size_t size,
		    struct sx_result *result);

/* video_frame.c: from a decoded frame to the answer's pixels. */

/* The decoder output formats the core converts (8 to 14 bits, 4:0:0 to 4:4:4, RGB). */
extern const enum AVPixelFormat video_pixel_formats[];
extern const size_t video_pixel_format_count;
bool video_pixel_format_supported(int format);

/* Clockwise rotation (0, 90, 180 or 270) a viewer applies, from the stream's display
 * matrix, rounded to a quarter turn; 0 when there is none. Mirroring is ignored, as the
 * ffmpeg 5.1 CLI ignores it. */
int stream_rotation(const AVStream *st);

/* Width of a w-pixel-wide picture once its sample aspect ratio is applied (w when the
 * ratio is unknown), at least 1. */
uint32_t display_width(uint32_t w, AVRational sar);

/* Converts `frame` (in one of video_pixel_formats: the caller checked) to the answer: fitted into
 * the request's box (display aspect and rotation taken into account) for thumbnails, full stored
 * size otherwise; rotation applied; RGB or RGBA. On SX_OK result->image holds the pixels. */
enum sx_status frame_to_image(const struct sx_request *req, const AVFrame *frame, AVRational sar,
			      int rotation, struct sx_result *result);

/* `frame` as tightly packed 8-bit RGBA of tw x th, in the frame's colour matrix and range:
 * at full size with the CLI's own swscale flags (so it is the picture `ffmpeg` extracts);
 * shrunk by 2 or more with swscale's area filter in one pass; shrunk by less with a
 * full-size conversion then sx_downscale_rgba(). On SX_OK *rgba is a new malloc'd
 * buffer. */
enum sx_status scale_to_rgba(const AVFrame *frame, uint32_t tw, uint32_t th, uint8_t **rgba,
			     struct sx_result *result);

/* video_hdr.c: PQ/HLG BT.2020 pictures to SDR sRGB/BT.709 (tone mapping). */

/* Builds the transfer tables (before the line, from video_prepare; later calls do nothing). */
void video_hdr_prepare(void);
/* True for a YUV frame whose transfer is PQ (SMPTE ST 2084) or HLG (ARIB STD-B67). */
bool video_frame_is_hdr(const AVFrame *frame);
/* `rgba64` (w x h, 16-bit non-linear BT.2020 RGBA from swscale) of `frame` as 8-bit SDR RGBA;
 * on SX_OK *rgba is a new malloc'd buffer. */
enum sx_status hdr_to_sdr(const AVFrame *frame, const uint16_t *rgba64, uint32_t w, uint32_t h,
			  uint8_t **rgba, struct sx_result *result);

/* warm_clips.c (generated by fixtures/make_video_fixtures.py --warm-clips): the
 * warm-up's samples. warm_up.c: the family's prepare (sx_family.h). */
extern const struct sx_sample_set warm_clips;
bool video_prepare(void **ctx);

#endif
