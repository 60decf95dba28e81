/* video_probe.c: the probe answer: what the container says of the chosen stream,
 * completed by the decoder's view of its first picture. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include "video_internal.h"

static const char *format_label(const AVFormatContext *fmt, const uint8_t *data, size_t size)
{
	const char *name = fmt->iformat->name;
	if (strcmp(name, "mov,mp4,m4a,3gp,3g2,mj2") == 0) {
		const AVDictionaryEntry *brand = av_dict_get(fmt->metadata, "major_brand", NULL, 0);
		if (!brand || strcmp(brand->value, "qt  ") == 0)
			return "mov";
		if (strncmp(brand->value, "3g2", 3) == 0)
			return "3g2";
		if (strncmp(brand->value, "3g", 2) == 0)
			return "3gp";
		return "mp4";
	}
	if (strcmp(name, "matroska,webm") == 0) {
		/* The EBML header's DocType (id 0x4282), a 4-byte string "webm". */
		size_t n = size < 64 ? size : 64;
		for (size_t i = 0; i + 7 <= n; i++)
			if (data[i] == 0x42 && data[i + 1] == 0x82 && data[i + 2] == 0x84 &&
			    memcmp(data + i + 3, "webm", 4) == 0)
				return "webm";
		return "matroska";
	}
	return name; /* mpegts, h264, hevc */
}

static double stream_duration(const AVFormatContext *fmt, const AVStream *st)
{
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.num > 0 &&
	    st->time_base.den > 0)
		return (double)st->duration * av_q2d(st->time_base);
	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		return (double)fmt->duration / AV_TIME_BASE;
	return 0;
}

/* MPEG-TS has no index: like ffprobe, take the span of the video timestamps, from the
 * earliest packet read for the first picture to the end of the last packet in the final
 * SX_VIDEO_TAIL_BYTES. Timestamps come from the file: every sum is checked. 0 when
 * unknown. Runs after the first picture: the decoder is done with the packets. */
static double ts_duration(struct video_job *job)
{
	const AVStream *st = job->fmt->streams[job->stream];
	AVRational rate = job->decoder->framerate;
	if (job->first_pts == AV_NOPTS_VALUE || st->time_base.num <= 0 || st->time_base.den <= 0)
		return 0;
	int64_t from = job->input.size > SX_VIDEO_TAIL_BYTES
			   ? (int64_t)(job->input.size - SX_VIDEO_TAIL_BYTES)
			   : 0;
	if (av_seek_frame(job->fmt, -1, from, AVSEEK_FLAG_BYTE) < 0)
		return 0;
	/* A packet without a duration lasts one frame, when the stream says how long that is. */
	int64_t one_frame =
	    rate.num > 0 && rate.den > 0 ? av_rescale_q(1, av_inv_q(rate), st->time_base) : 0;
	int64_t end = AV_NOPTS_VALUE;
	for (unsigned n = 0; n < SX_VIDEO_MAX_PACKETS && av_read_frame(job->fmt, job->packet) >= 0;
	     n++) {
		const AVPacket *p = job->packet;
		int64_t last;
		if (p->stream_index == job->stream && p->pts != AV_NOPTS_VALUE &&
		    !__builtin_add_overflow(p->pts, p->duration > 0 ? p->duration : one_frame,
					    &last) &&
		    (end == AV_NOPTS_VALUE || last > end))
			end = last;
		av_packet_unref(job->packet);
	}
	int64_t span;
	if (end == AV_NOPTS_VALUE || __builtin_sub_overflow(end, job->first_pts, &span) ||
	    span <= 0)
		return 0;
	return (double)span * av_q2d(st->time_base);
}

static double frame_rate(const AVStream *st, const AVCodecContext *decoder)
{
	AVRational r = st->avg_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		r = st->r_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		r = decoder->framerate; /* the stream's own timing info (VUI), for raw streams */
	return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

/* The probe answer: what the container says, completed by the decoder's view of the
 * first picture (size after cropping, pixel format, profile and level of the parameter
 * sets actually used, aspect ratio from the VUI when the container has none). */
void describe_video(struct video_job *job, const uint8_t *data, size_t size,
		     struct sx_result *result)
{
	AVStream *st = job->fmt->streams[job->stream];
	const AVCodecContext *dec = job->decoder;
	const AVFrame *frame = job->frame;
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
	struct sx_meta *m = &result->meta;
	sx_meta_add_cstring(m, "format", format_label(job->fmt, data, size));
	sx_meta_add_cstring(m, "container", job->fmt->iformat->name);
	sx_meta_add_cstring(m, "codec", avcodec_get_name(dec->codec_id));
	const char *profile = avcodec_profile_name(dec->codec_id, dec->profile);
	if (profile) {
		sx_meta_add_cstring(m, "profile", profile);
	} else if (dec->profile != FF_PROFILE_UNKNOWN && dec->profile >= 0) {
		/* VP8 has no profile names: the number, as ffprobe prints it. */
		char number[16];
		snprintf(number, sizeof number, "%d", dec->profile);
		sx_meta_add_cstring(m, "profile", number);
	}
	/* AV1's level 0 is level 2.0 (seq_level_idx 0), a real level. */
	if (dec->level != FF_LEVEL_UNKNOWN &&
	    (dec->level > 0 || (dec->codec_id == AV_CODEC_ID_AV1 && dec->level == 0)))
		sx_meta_add_int(m, "level", dec->level);
	sx_meta_add_int(m, "width", frame->width);
	sx_meta_add_int(m, "height", frame->height);
	int rotation = stream_rotation(st);
	AVRational sar = av_guess_sample_aspect_ratio(job->fmt, st, job->frame);
	uint32_t dw = display_width((uint32_t)frame->width, sar), dh = (uint32_t)frame->height;
	if (sar.num > 0 && sar.den > 0) {
		char text[32];
		AVRational dar;
		snprintf(text, sizeof text, "%d:%d", sar.num, sar.den);
		sx_meta_add_cstring(m, "sample_aspect_ratio", text);
		/* Reduced as ffprobe reduces it. */
		av_reduce(&dar.num, &dar.den, (int64_t)frame->width * sar.num,
			  (int64_t)frame->height * sar.den, 1024 * 1024);
		snprintf(text, sizeof text, "%d:%d", dar.num, dar.den);
		sx_meta_add_cstring(m, "display_aspect_ratio", text);
	}
	int swap = rotation == 90 || rotation == 270;
	sx_meta_add_int(m, "display_width", swap ? dh : dw);
	sx_meta_add_int(m, "display_height", swap ? dw : dh);
	sx_meta_add_int(m, "rotation", rotation);
	double duration = stream_duration(job->fmt, st);
	if (duration <= 0 && strcmp(job->fmt->iformat->name, "mpegts") == 0)
		duration = ts_duration(job);
	if (isfinite(duration) && duration > 0)
		sx_meta_add_float(m, "duration", duration);
	double rate = frame_rate(st, dec);
	if (isfinite(rate) && rate > 0)
		sx_meta_add_float(m, "frame_rate", rate);
	if (st->nb_frames > 0)
		sx_meta_add_int(m, "frame_count", st->nb_frames);
	sx_meta_add_int(m, "bit_depth", desc ? desc->comp[0].depth : 0);
	sx_meta_add_cstring(m, "pix_fmt", desc ? desc->name : "unknown");
	sx_meta_add_bool(m, "has_audio", job->has_audio);
	result->kind = SX_RESULT_META;
}
