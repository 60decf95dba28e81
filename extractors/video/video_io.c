/* video_io.c: the in-memory AVIOContext and the content probe restricted to the
 * whitelisted demuxers. */
#include <stdlib.h>
#include <string.h>

#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "sx_magic.h"
#include "video_internal.h"

static int read_memory(void *opaque, uint8_t *buf, int buf_size)
{
	struct memory_input *in = opaque;
	if (buf_size <= 0)
		return 0;
	if (in->pos < 0 || (uint64_t)in->pos >= in->size)
		return AVERROR_EOF;
	size_t n = in->size - (size_t)in->pos;
	if (n > (size_t)buf_size)
		n = (size_t)buf_size;
	memcpy(buf, in->data + in->pos, n);
	in->pos += (int64_t)n;
	return (int)n;
}

static int64_t seek_memory(void *opaque, int64_t offset, int whence)
{
	struct memory_input *in = opaque;
	int64_t size = (int64_t)in->size, base;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE: return size;
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = in->pos; break;
	case SEEK_END: base = size; break;
	default: return AVERROR(EINVAL);
	}
	/* Offsets come from the file: compare without forming base + offset first. */
	if (offset < -base || offset > size - base)
		return AVERROR(EINVAL);
	in->pos = base + offset;
	return in->pos;
}

AVIOContext *open_memory_io(struct memory_input *in)
{
	uint8_t *buffer = av_malloc(SX_VIDEO_IO_BUFFER_BYTES);
	if (!buffer)
		return NULL;
	AVIOContext *pb = avio_alloc_context(buffer, SX_VIDEO_IO_BUFFER_BYTES, 0, in, read_memory,
					     NULL, seek_memory);
	if (!pb)
		av_free(buffer);
	return pb;
}

void close_memory_io(AVIOContext **pb)
{
	if (!*pb)
		return;
	/* libavio may have replaced the buffer it was given: free the one it holds now. */
	av_freep(&(*pb)->buffer);
	avio_context_free(pb);
}

/* The whitelisted demuxers, by their exact libavformat names. */
static const char *const demuxer_names[] = {
    "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpegts", "h264", "hevc", "ivf",
};
#define DEMUXER_COUNT (sizeof demuxer_names / sizeof demuxer_names[0])

/* An Annex B stream opens with a start code (00 00 01, maybe after more zeros). The raw
 * H.264/HEVC probes also fire on NAL units found anywhere in a file (inside an AVI, say):
 * without this, a container we do not support would be read as a raw stream. */
static bool opens_with_start_code(const uint8_t *d, size_t n)
{
	size_t zeros = 0;
	while (zeros < n && d[zeros] == 0)
		zeros++;
	return zeros >= 2 && zeros < n && d[zeros] == 1;
}

/* Best whitelisted demuxer for the padded probe buffer `pd`, and its score. */
static const AVInputFormat *best_demuxer(const AVProbeData *pd, int *best_score)
{
	const AVInputFormat *best = NULL;
	*best_score = 0;
#if LIBAVFORMAT_VERSION_MAJOR < 61
	/* read_probe sits in the public struct up to FFmpeg 6: only our six demuxers look
	 * at the bytes, the others are never asked. */
	bool annex_b = opens_with_start_code(pd->buf, (size_t)pd->buf_size);
	for (size_t i = 0; i < DEMUXER_COUNT; i++) {
		const char *name = demuxer_names[i];
		const AVInputFormat *f = av_find_input_format(name);
		bool raw = strcmp(name, "h264") == 0 || strcmp(name, "hevc") == 0;
		if (!f || strcmp(f->name, name) != 0 || !f->read_probe || (raw && !annex_b))
			continue;
		int score = f->read_probe(pd);
		if (score > *best_score) {
			*best_score = score;
			best = f;
		}
	}
#else
	/* Later FFmpeg hides read_probe: probe with all demuxers, keep only ours. */
	best = av_probe_input_format3(pd, 1, best_score);
	if (best && (av_match_list(best->name, VIDEO_FORMAT_WHITELIST, ',') <= 0 ||
		     ((strcmp(best->name, "h264") == 0 || strcmp(best->name, "hevc") == 0) &&
		      !opens_with_start_code(pd->buf, (size_t)pd->buf_size))))
		best = NULL;
#endif
	return best;
}

enum sx_status choose_demuxer(const uint8_t *data, size_t size, const AVInputFormat **demuxer,
			      struct sx_result *result)
{
	size_t max = size < SX_VIDEO_PROBE_MAX_BYTES ? size : SX_VIDEO_PROBE_MAX_BYTES;
	/* Probes read up to AVPROBE_PADDING_SIZE bytes past the end: give them zeros. */
	uint8_t *buf = malloc(max + AVPROBE_PADDING_SIZE);
	if (!buf)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to probe the input");
	*demuxer = NULL;
	for (size_t n = SX_VIDEO_PROBE_MIN_BYTES;; n *= 2) {
		bool last = n >= max;
		if (last)
			n = max;
		memcpy(buf, data, n);
		memset(buf + n, 0, AVPROBE_PADDING_SIZE);
		AVProbeData pd = {.filename = "", .buf = buf, .buf_size = (int)n};
		int score;
		const AVInputFormat *f = best_demuxer(&pd, &score);
		/* Stricter than av_probe_input_buffer2(), which takes any score once all is
		 * seen: a weak guess (the TS probe gives 2 to a PNG) is no answer here. */
		if (f && score > AVPROBE_SCORE_RETRY) {
			*demuxer = f;
			break;
		}
		if (last)
			break;
	}
	free(buf);
	if (!*demuxer)
		return sx_fail(result, SX_ERR_UNSUPPORTED,
			       "not MP4/MOV, Matroska/WebM, MPEG-TS, IVF or raw H.264/HEVC "
			       "(looks like %s)",
			       sx_magic_describe(data, size));
	return SX_OK;
}
