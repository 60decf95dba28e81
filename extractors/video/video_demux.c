/* video_demux.c: the container over memory (whitelisted demuxers, no other input, no
 * protocol), and the choice of the one supported stream the rest of the core reads. */
#include <stdio.h>
#include <string.h>

#include <libavformat/avformat.h>

#include "video_internal.h"

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

enum sx_status open_container(struct video_job *job, const uint8_t *data, size_t size,
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
	       (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC ||
		par->codec_id == AV_CODEC_ID_VP8 || par->codec_id == AV_CODEC_ID_VP9 ||
		par->codec_id == AV_CODEC_ID_AV1) &&
	       !(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
}

/* Keeps the supported video streams and discards every other one, so the demuxer drops
 * their packets before any parser or decoder sees them. Refuses a declared picture size
 * over the cap before anything is decoded. */
enum sx_status screen_streams(struct video_job *job, const struct sx_request *req,
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
		return sx_fail(
		    result, SX_ERR_UNSUPPORTED,
		    "video codec %s is not supported (H.264, HEVC, VP8, VP9 and AV1 only)",
		    avcodec_get_name(other));
	return sx_fail(result, SX_ERR_UNSUPPORTED, "no H.264, HEVC, VP8, VP9 or AV1 video stream%s",
		       job->has_audio ? " (audio only)" : "");
}

/* The largest supported stream (the one the ffmpeg CLI would pick); the others are
 * discarded from here on. */
void pick_stream(struct video_job *job)
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
