/* video_core.c: the sx-video decode core: open the container over memory, pick the
 * H.264/HEVC stream, describe it or decode its first picture. */
#include "video_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include "video_internal.h"
#include "video_limits.h"

/* Everything an extraction holds, released in one place whatever happened. */
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

static void close_job(struct video_job *job)
{
	av_frame_free(&job->frame);
	av_packet_free(&job->packet);
	avcodec_free_context(&job->decoder);
	av_parser_close(job->parser);
	avcodec_free_context(&job->parser_ctx);
	/* With AVFMT_FLAG_CUSTOM_IO this leaves our AVIOContext alone. */
	avformat_close_input(&job->fmt);
	close_memory_io(&job->pb);
}

/* Static texts: av_strerror() may go through strerror_r and the locale machinery. */
static const char *error_text(int err)
{
	switch (err) {
	case AVERROR_INVALIDDATA: return "invalid data";
	case AVERROR_EOF: return "the data ends early";
	case AVERROR(ENOMEM): return "out of memory";
	case AVERROR(EINVAL): return "invalid value";
	case AVERROR(EPERM): return "not permitted";
	case AVERROR(ENOSYS):
	case AVERROR_PATCHWELCOME: return "a feature FFmpeg does not implement";
	case AVERROR_DECODER_NOT_FOUND: return "no decoder";
	case AVERROR_DEMUXER_NOT_FOUND: return "no demuxer";
	default: return "error";
	}
}

static enum sx_status status_for(int err)
{
	switch (err) {
	case AVERROR(ENOMEM): return SX_ERR_NO_MEMORY;
	case AVERROR(ENOSYS):
	case AVERROR_PATCHWELCOME:
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_DEMUXER_NOT_FOUND: return SX_ERR_UNSUPPORTED;
	default: return SX_ERR_BAD_INPUT;
	}
}

static enum sx_status fail_av(struct sx_result *result, int err, const char *what)
{
	return sx_fail(result, status_for(err), "%s: %s", what, error_text(err));
}

/* A demuxer that wants another input (a playlist entry, an external data reference)
 * asks here: nothing but the memory we were given may ever be read. */
static int refuse_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
			  AVDictionary **options)
{
	(void)s;
	(void)url;
	(void)flags;
	(void)options;
	*pb = NULL;
	return AVERROR(EPERM);
}

static enum sx_status open_container(struct video_job *job, const uint8_t *data, size_t size,
				     struct sx_result *result)
{
	const AVInputFormat *demuxer;
	enum sx_status status = choose_demuxer(data, size, &demuxer, result);
	if (status == SX_OK && strcmp(demuxer->name, "mov,mp4,m4a,3gp,3g2,mj2") == 0)
		status = check_mp4_boxes(data, size, result);
	if (status != SX_OK)
		return status;
	job->input = (struct memory_input){.data = data, .size = size, .pos = 0};
	job->pb = open_memory_io(&job->input);
	job->fmt = avformat_alloc_context();
	if (!job->pb || !job->fmt)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the demuxer");
	job->fmt->pb = job->pb;
	job->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	job->fmt->io_open = refuse_io_open;
	job->fmt->max_streams = SX_VIDEO_MAX_STREAMS;
	/* The whitelists are the second fence behind choose_demuxer() and refuse_io_open():
	 * no other demuxer, no other decoder, no protocol at all ("none" names none). */
	AVDictionary *opts = NULL;
	if (av_dict_set(&opts, "format_whitelist", VIDEO_FORMAT_WHITELIST, 0) < 0 ||
	    av_dict_set(&opts, "codec_whitelist", VIDEO_CODEC_WHITELIST, 0) < 0 ||
	    av_dict_set(&opts, "protocol_whitelist", "none", 0) < 0) {
		av_dict_free(&opts);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the demuxer options");
	}
	int err = avformat_open_input(&job->fmt, "", demuxer, &opts);
	av_dict_free(&opts);
	if (err < 0) {
		/* On failure libavformat has freed the context (not our AVIOContext). */
		char what[96];
		snprintf(what, sizeof what, "%s header",
			 demuxer->long_name ? demuxer->long_name : demuxer->name);
		return fail_av(result, err, what);
	}
	return SX_OK;
}

static bool is_ours(const AVStream *st)
{
	const AVCodecParameters *par = st->codecpar;
	return par->codec_type == AVMEDIA_TYPE_VIDEO &&
	       (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC) &&
	       !(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

/* Keeps the H.264/HEVC video streams and discards every other one, so the demuxer drops
 * their packets before any parser or decoder sees them. Refuses a declared picture size
 * over the cap before anything is decoded. */
static enum sx_status screen_streams(struct video_job *job, const struct sx_request *req,
				     struct sx_result *result)
{
	unsigned ours = 0;
	enum AVCodecID other = AV_CODEC_ID_NONE;
	job->has_audio = false;
	for (unsigned i = 0; i < job->fmt->nb_streams; i++) {
		AVStream *st = job->fmt->streams[i];
		const AVCodecParameters *par = st->codecpar;
		if (par->codec_type == AVMEDIA_TYPE_AUDIO)
			job->has_audio = true;
		if (!is_ours(st)) {
			st->discard = AVDISCARD_ALL;
			if (par->codec_type == AVMEDIA_TYPE_VIDEO && other == AV_CODEC_ID_NONE &&
			    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
				other = par->codec_id;
			continue;
		}
		ours++;
		uint64_t w = par->width > 0 ? (uint64_t)par->width : 0;
		uint64_t h = par->height > 0 ? (uint64_t)par->height : 0;
		if (w * h > req->max_pixels)
			return sx_fail(result, SX_ERR_LIMIT,
				       "the container declares a %llux%llu picture, over the cap "
				       "of %llu pixels",
				       (unsigned long long)w, (unsigned long long)h,
				       (unsigned long long)req->max_pixels);
	}
	if (ours)
		return SX_OK;
	if (other != AV_CODEC_ID_NONE)
		return sx_fail(result, SX_ERR_UNSUPPORTED,
			       "video codec %s is not supported (H.264 and HEVC only)",
			       avcodec_get_name(other));
	return sx_fail(result, SX_ERR_UNSUPPORTED, "no H.264 or HEVC video stream%s",
		       job->has_audio ? " (audio only)" : "");
}

/* The largest H.264/HEVC stream (the one the ffmpeg CLI would pick); the others are
 * discarded from here on. */
static void pick_stream(struct video_job *job)
{
	uint64_t best_area = 0;
	job->stream = -1;
	for (unsigned i = 0; i < job->fmt->nb_streams; i++) {
		const AVStream *st = job->fmt->streams[i];
		if (!is_ours(st))
			continue;
		uint64_t area = (uint64_t)(st->codecpar->width > 0 ? st->codecpar->width : 0) *
				(uint64_t)(st->codecpar->height > 0 ? st->codecpar->height : 0);
		if (job->stream < 0 || area > best_area) {
			job->stream = (int)i;
			best_area = area;
		}
	}
	for (unsigned i = 0; i < job->fmt->nb_streams; i++)
		if ((int)i != job->stream)
			job->fmt->streams[i]->discard = AVDISCARD_ALL;
}

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
static void describe(struct video_job *job, const uint8_t *data, size_t size,
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
	if (profile)
		sx_meta_add_cstring(m, "profile", profile);
	if (dec->level != FF_LEVEL_UNKNOWN && dec->level > 0)
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

static enum sx_status open_decoder(struct video_job *job, const struct sx_request *req,
				   struct sx_result *result)
{
	const AVStream *st = job->fmt->streams[job->stream];
	/* By name: a hardware wrapper (h264_v4l2m2m, hevc_qsv...) is never chosen. */
	const char *name = st->codecpar->codec_id == AV_CODEC_ID_H264 ? "h264" : "hevc";
	const AVCodec *codec = avcodec_find_decoder_by_name(name);
	if (!codec)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "this FFmpeg has no %s decoder", name);
	job->decoder = avcodec_alloc_context3(codec);
	job->packet = av_packet_alloc();
	job->frame = av_frame_alloc();
	if (!job->decoder || !job->packet || !job->frame)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the decoder");
	int err = avcodec_parameters_to_context(job->decoder, st->codecpar);
	if (err < 0)
		return fail_av(result, err, "decoder parameters");
	job->decoder->pkt_timebase = st->time_base;
	/* Strict mode has no clone(), and no sysconf() to count CPUs: one thread, no frame
	 * or slice threading. */
	job->decoder->thread_count = 1;
	job->decoder->thread_type = 0;
	job->decoder->max_pixels = (int64_t)req->max_pixels;
	AVDictionary *opts = NULL;
	if (av_dict_set(&opts, "codec_whitelist", VIDEO_CODEC_WHITELIST, 0) < 0)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the decoder options");
	err = avcodec_open2(job->decoder, codec, &opts);
	av_dict_free(&opts);
	if (err < 0)
		return fail_av(result, err, "opening the decoder");
	/* The decoder refuses a picture over max_pixels as plain invalid data; its parser,
	 * run on each packet first, tells the size the parameter sets declare. */
	job->parser = av_parser_init(st->codecpar->codec_id);
	job->parser_ctx = avcodec_alloc_context3(NULL);
	if (!job->parser || !job->parser_ctx)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the parser");
	job->parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
	err = avcodec_parameters_to_context(job->parser_ctx, st->codecpar);
	if (err < 0)
		return fail_av(result, err, "parser parameters");
	return SX_OK;
}

/* SX_ERR_LIMIT when the parameter sets in `pkt` (or the extradata) declare a picture over
 * the cap. Packets arrive whole (demuxed, or framed by libavformat's own parser). */
static enum sx_status check_declared_size(struct video_job *job, const AVPacket *pkt,
					  const struct sx_request *req, struct sx_result *result)
{
	uint8_t *out;
	int out_size;
	av_parser_parse2(job->parser, job->parser_ctx, &out, &out_size, pkt->data, pkt->size,
			 pkt->pts, pkt->dts, pkt->pos);
	uint64_t w = job->parser->width > 0 ? (uint64_t)job->parser->width : 0;
	uint64_t h = job->parser->height > 0 ? (uint64_t)job->parser->height : 0;
	if (w * h > req->max_pixels)
		return sx_fail(result, SX_ERR_LIMIT,
			       "the %s parameter sets declare a %llux%llu picture, over the cap of "
			       "%llu pixels",
			       avcodec_get_name(job->parser_ctx->codec_id), (unsigned long long)w,
			       (unsigned long long)h, (unsigned long long)req->max_pixels);
	return SX_OK;
}

/* Feeds the chosen stream's packets to the decoder until a picture comes out. Packets
 * the decoder rejects (a stream picked up mid-GOP, damaged slices) are skipped, within
 * SX_VIDEO_MAX_PACKETS packets and SX_VIDEO_MAX_PACKET_BYTES bytes. */
static enum sx_status decode_first_frame(struct video_job *job, const struct sx_request *req,
					 struct sx_result *result)
{
	unsigned packets = 0, errors = 0;
	uint64_t bytes = 0;
	int last_error = 0;
	bool draining = false;
	for (;;) {
		int err = avcodec_receive_frame(job->decoder, job->frame);
		if (err == 0)
			return SX_OK;
		if (err == AVERROR_EOF)
			break;
		if (err == AVERROR(ENOMEM))
			return fail_av(result, err, "decoding");
		if (err != AVERROR(EAGAIN)) {
			/* A broken picture: ask again. Each error stands for a packet or a held
			 * picture, so they are bounded like packets. */
			last_error = err;
			if (++errors > 2 * SX_VIDEO_MAX_PACKETS)
				break;
			continue;
		}
		if (draining)
			break;
		if (packets >= SX_VIDEO_MAX_PACKETS || bytes >= SX_VIDEO_MAX_PACKET_BYTES)
			return sx_fail(result, SX_ERR_LIMIT,
				       "no picture in the first %u packets (%llu bytes)", packets,
				       (unsigned long long)bytes);
		err = av_read_frame(job->fmt, job->packet);
		if (err == AVERROR(ENOMEM))
			return fail_av(result, err, "reading packets");
		if (err < 0) {
			/* End of data or a broken container: flush what the decoder holds. */
			if (err != AVERROR_EOF)
				last_error = err;
			draining = true;
			avcodec_send_packet(job->decoder, NULL);
			continue;
		}
		packets++;
		int index = job->packet->stream_index;
		if (index != job->stream) {
			/* A stream that appeared after the screening (MPEG-TS may add them). */
			if (index >= 0 && (unsigned)index < job->fmt->nb_streams)
				job->fmt->streams[index]->discard = AVDISCARD_ALL;
			av_packet_unref(job->packet);
			continue;
		}
		bytes += (uint64_t)job->packet->size;
		enum sx_status status = check_declared_size(job, job->packet, req, result);
		if (status != SX_OK) {
			av_packet_unref(job->packet);
			return status;
		}
		int64_t pts = job->packet->pts;
		if (pts != AV_NOPTS_VALUE &&
		    (job->first_pts == AV_NOPTS_VALUE || pts < job->first_pts))
			job->first_pts = pts;
		err = avcodec_send_packet(job->decoder, job->packet);
		av_packet_unref(job->packet);
		if (err == AVERROR(ENOMEM))
			return fail_av(result, err, "decoding");
		if (err < 0 && err != AVERROR(EAGAIN))
			last_error = err;
	}
	return sx_fail(result, SX_ERR_BAD_INPUT, "no decodable %s picture in %u packets (%s)",
		       avcodec_get_name(job->fmt->streams[job->stream]->codecpar->codec_id),
		       packets, last_error ? error_text(last_error) : "no picture data");
}

/* Every mode decodes the first picture: a probe answer describes a video that really
 * decodes, with the decoder's own view of it. libavformat's stream analysis
 * (avformat_find_stream_info) is never run: it would open a decoder for every stream,
 * audio included, and in 5.1 its second attempt drops the codec whitelist. */
static enum sx_status run_job(struct video_job *job, const struct sx_request *req,
			      const uint8_t *data, size_t size, struct sx_result *result)
{
	enum sx_status status = open_container(job, data, size, result);
	if (status == SX_OK)
		status = screen_streams(job, req, result);
	if (status != SX_OK)
		return status;
	pick_stream(job);
	status = open_decoder(job, req, result);
	if (status == SX_OK)
		status = decode_first_frame(job, req, result);
	if (status != SX_OK)
		return status;
	if (!video_pixel_format_supported(job->frame->format)) {
		const char *name = av_get_pix_fmt_name(job->frame->format);
		return sx_fail(result, SX_ERR_UNSUPPORTED, "pixel format %s is not supported",
			       name ? name : "unknown");
	}
	if (req->mode == SX_MODE_PROBE) {
		describe(job, data, size, result);
		return SX_OK;
	}
	AVStream *st = job->fmt->streams[job->stream];
	return frame_to_image(req, job->frame,
			      av_guess_sample_aspect_ratio(job->fmt, st, job->frame),
			      stream_rotation(st), result);
}

enum sx_status sx_video_extract(const struct sx_request *req, const uint8_t *data, size_t size,
				struct sx_result *result)
{
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	struct video_job job;
	memset(&job, 0, sizeof job);
	job.stream = -1;
	job.first_pts = AV_NOPTS_VALUE;
	enum sx_status status = run_job(&job, req, data, size, result);
	close_job(&job);
	return status;
}
