/* video_core.c: the sx-video family: its descriptor, and the decode core that opens the
 * decoder of the chosen stream and runs it to the first picture, for every mode. */
#include "video_core.h"

#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include "video_internal.h"

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

static const char *decoder_name(enum AVCodecID id)
{
	switch (id) {
	case AV_CODEC_ID_H264: return "h264";
	case AV_CODEC_ID_VP8: return "vp8";
	case AV_CODEC_ID_VP9: return "vp9";
	case AV_CODEC_ID_AV1: return "libdav1d";
	default: return "hevc";
	}
}

/* libdav1d starts worker threads unless told otherwise: FFmpeg 5.1's wrapper gives
 * dav1d_open() n_threads = max(tilethreads, framethreads) when either is set, else
 * thread_count * 3 / 2 (and av_cpu_count(), a sched_getaffinity syscall, when
 * thread_count is 0); dav1d 1.0 creates its pool only when n_threads > 1, and sizes its
 * frame queue from max_frame_delay. All three are pinned to one, and low delay on top:
 * tests/extractors/test_video_modern.py shows under strace that no clone (nor anything
 * else) follows the line. */
static int set_dav1d_options(AVCodecContext *decoder, AVDictionary **opts)
{
	decoder->flags |= AV_CODEC_FLAG_LOW_DELAY;
	if (av_dict_set(opts, "tilethreads", "1", 0) < 0 ||
	    av_dict_set(opts, "framethreads", "1", 0) < 0 ||
	    av_dict_set(opts, "max_frame_delay", "1", 0) < 0)
		return -1;
	return 0;
}

static enum sx_status open_decoder(struct video_job *job, const struct sx_request *req,
				   struct sx_result *result)
{
	const AVStream *st = job->fmt->streams[job->stream];
	/* By name: a hardware wrapper (h264_v4l2m2m, vp9_qsv...) or libvpx is never chosen. */
	const char *name = decoder_name(st->codecpar->codec_id);
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
	if (av_dict_set(&opts, "codec_whitelist", VIDEO_CODEC_WHITELIST, 0) < 0 ||
	    (codec->id == AV_CODEC_ID_AV1 && set_dav1d_options(job->decoder, &opts) < 0)) {
		av_dict_free(&opts);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the decoder options");
	}
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
		       packets, last_error ? video_error_text(last_error) : "no picture data");
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
		describe_video(job, data, size, result);
		return SX_OK;
	}
	AVStream *st = job->fmt->streams[job->stream];
	return frame_to_image(req, job->frame,
			      av_guess_sample_aspect_ratio(job->fmt, st, job->frame),
			      stream_rotation(st), result);
}

static enum sx_status extract_video(void *ctx, const struct sx_request *req, const uint8_t *data,
				    size_t size, struct sx_result *result)
{
	(void)ctx;
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

static const char summary[] =
    "Reads H.264, HEVC, VP8, VP9 or AV1 video (FFmpeg; AV1 through libdav1d, one thread)\n"
    "from MP4/MOV, Matroska/WebM, MPEG-TS, IVF or a raw Annex B stream, chosen by content\n"
    "through those demuxers' probes only; anything else (playlists, other codecs,\n"
    "audio-only files, images...) is answered 'unsupported'. No file or protocol other\n"
    "than the input can be opened. --probe returns format, codec, size, rotation,\n"
    "durations, frame rate, bit depth, bit rates, stream counts, audio, colour, hdr,\n"
    "alpha and creation_time (PROTOCOL.md; never location or device tags). Image answers\n"
    "are the first decodable picture, 8-bit RGBA (or RGB), rotation applied, PQ/HLG\n"
    "tone-mapped to SDR; thumbnails fit the display aspect into the box (area filter).";

const struct sx_family sx_video_family = {
    .name = "sx-video",
    .summary = summary,
    .prepare = video_prepare,
    .extract = extract_video,
    /* Both decoders, every container, through every mode and layout. */
    .samples = &warm_clips,
    .modes = SX_FAMILY_ALL_MODES,
    .warm_box_w = 7,
    .warm_box_h = 5,
};
