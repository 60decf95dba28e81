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

/* `text` (libavformat's creation_time, "2024-05-01T10:00:00.000000Z" from MP4/MOV and
 * Matroska alike) as ISO 8601 UTC to the second, "2024-05-01T10:00:00Z", in `out`; false
 * unless it has that shape with plausible field values. Parsed by hand: glibc's time
 * functions may load the time zone file (HACKING.md). */
static bool iso8601_utc(const char *text, char out[21])
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; shape[i]; i++) {
		char c = text[i];
		if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
			return false;
	}
	const char *rest = text + 19;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (!(rest[0] == 'Z' && rest[1] == 0) && rest[0] != 0)
		return false;
	int mon = (text[5] - '0') * 10 + text[6] - '0', day = (text[8] - '0') * 10 + text[9] - '0';
	int hh = (text[11] - '0') * 10 + text[12] - '0',
	    mm = (text[14] - '0') * 10 + text[15] - '0',
	    ss = (text[17] - '0') * 10 + text[18] - '0';
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	memcpy(out, text, 19);
	out[19] = 'Z';
	out[20] = 0;
	return true;
}

/* A stream's own duration in seconds, as its container states it; 0 when it does not. */
static double own_duration(const AVStream *st)
{
	if (st->duration == AV_NOPTS_VALUE || st->duration <= 0 || st->time_base.num <= 0 ||
	    st->time_base.den <= 0)
		return 0;
	double d = (double)st->duration * av_q2d(st->time_base);
	return isfinite(d) && d > 0 ? d : 0;
}

static bool alpha_declared(const AVStream *st)
{
	const AVDictionaryEntry *e = av_dict_get(st->metadata, "alpha_mode", NULL, 0);
	return e && strcmp(e->value, "1") == 0;
}

/* Stream counts, the first audio stream, bit rates, colour, HDR, creation time, alpha and
 * the durations. Location, device make/model and every other tag are never read
 * (README, "Privacy"). */
static void describe_more(struct video_job *job, struct sx_meta *m)
{
	const AVFormatContext *fmt = job->fmt;
	const AVStream *st = fmt->streams[job->stream];
	const AVFrame *frame = job->frame;
	int64_t counts[AVMEDIA_TYPE_NB] = {0};
	const AVStream *audio = NULL;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *s = fmt->streams[i];
		enum AVMediaType type = s->codecpar->codec_type;
		if (type == AVMEDIA_TYPE_VIDEO && (s->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue; /* cover art */
		if (type >= 0 && type < AVMEDIA_TYPE_NB)
			counts[type]++;
		if (type == AVMEDIA_TYPE_AUDIO && !audio)
			audio = s;
	}
	sx_meta_add_int(m, "video_streams", counts[AVMEDIA_TYPE_VIDEO]);
	sx_meta_add_int(m, "audio_streams", counts[AVMEDIA_TYPE_AUDIO]);
	sx_meta_add_int(m, "subtitle_streams", counts[AVMEDIA_TYPE_SUBTITLE]);
	sx_meta_add_int(m, "data_streams",
			counts[AVMEDIA_TYPE_DATA] + counts[AVMEDIA_TYPE_ATTACHMENT]);
	/* The container's duration and bit rate as libavformat's stream analysis (which we
	 * never run) fills them in: the header's duration, else the longest stream's; the
	 * file's size over that duration. */
	double container = fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0
			       ? (double)fmt->duration / AV_TIME_BASE
			       : 0;
	for (unsigned i = 0; container <= 0 && i < fmt->nb_streams; i++) {
		double d = own_duration(fmt->streams[i]);
		if (d > container)
			container = d;
	}
	int64_t rate = fmt->bit_rate;
	if (rate <= 0 && container > 0) {
		double bits = (double)job->input.size * 8.0 / container;
		rate = bits >= 1 && bits < 9.0e18 ? (int64_t)bits : 0;
	}
	if (rate > 0)
		sx_meta_add_int(m, "bit_rate", rate);
	if (st->codecpar->bit_rate > 0)
		sx_meta_add_int(m, "video_bit_rate", st->codecpar->bit_rate);
	if (audio) {
		const AVCodecParameters *a = audio->codecpar;
		sx_meta_add_cstring(m, "audio_codec", avcodec_get_name(a->codec_id));
		if (a->ch_layout.nb_channels > 0)
			sx_meta_add_int(m, "audio_channels", a->ch_layout.nb_channels);
		if (a->sample_rate > 0)
			sx_meta_add_int(m, "audio_sample_rate", a->sample_rate);
		double d = own_duration(audio);
		if (d > 0)
			sx_meta_add_float(m, "audio_duration", d);
	}
	/* Colour as the decoder sees the first picture, else as the container declares it. */
	enum AVColorPrimaries prim = frame->color_primaries != AVCOL_PRI_UNSPECIFIED
					 ? frame->color_primaries
					 : st->codecpar->color_primaries;
	enum AVColorTransferCharacteristic trc =
	    frame->color_trc != AVCOL_TRC_UNSPECIFIED ? frame->color_trc : st->codecpar->color_trc;
	enum AVColorSpace space = frame->colorspace != AVCOL_SPC_UNSPECIFIED
				      ? frame->colorspace
				      : st->codecpar->color_space;
	enum AVColorRange range = frame->color_range != AVCOL_RANGE_UNSPECIFIED
				      ? frame->color_range
				      : st->codecpar->color_range;
	if (prim != AVCOL_PRI_UNSPECIFIED && av_color_primaries_name(prim))
		sx_meta_add_cstring(m, "color_primaries", av_color_primaries_name(prim));
	if (trc != AVCOL_TRC_UNSPECIFIED && av_color_transfer_name(trc))
		sx_meta_add_cstring(m, "color_transfer", av_color_transfer_name(trc));
	if (space != AVCOL_SPC_UNSPECIFIED && av_color_space_name(space))
		sx_meta_add_cstring(m, "color_matrix", av_color_space_name(space));
	if (range != AVCOL_RANGE_UNSPECIFIED && av_color_range_name(range))
		sx_meta_add_cstring(m, "color_range", av_color_range_name(range));
	sx_meta_add_bool(m, "hdr", trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67);
	const AVDictionaryEntry *when = av_dict_get(fmt->metadata, "creation_time", NULL, 0);
	char iso[21];
	if (when && iso8601_utc(when->value, iso))
		sx_meta_add_cstring(m, "creation_time", iso);
	sx_meta_add_bool(m, "has_alpha", alpha_declared(st));
	double video = own_duration(st);
	if (video > 0)
		sx_meta_add_float(m, "video_duration", video);
	if (isfinite(container) && container > 0)
		sx_meta_add_float(m, "container_duration", container);
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
	describe_more(job, m);
	result->kind = SX_RESULT_META;
}
