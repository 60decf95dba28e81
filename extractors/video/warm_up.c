/* warm_up.c: sx-video's prepare (sx_family.h): silences av_log and runs, before the
 * strict line, the lazy initialisations FFmpeg would do on first use that the built-in
 * clips (warm_clips.c, decoded in every mode by the common warm-up) do not all reach.
 * FFmpeg guards its static tables with pthread_once (ff_thread_once), and glibc's
 * pthread_once ends in a futex wake the first time: reached after the line, that is a
 * SIGKILL. Reached again later it is a plain load, so doing each once here is enough. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/cpu.h>
#include <libavutil/crc.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

#include "video_internal.h"

/* av_log's default callback prints through stdio (fstat, write on fd 2): never called. */
static void silent_log(void *avcl, int level, const char *fmt, va_list vl)
{
	(void)avcl;
	(void)level;
	(void)fmt;
	(void)vl;
}

/* Every parser's init: libavformat runs a parser on the packets of raw and MPEG-TS
 * streams, ours and any stream an MPEG-TS adds mid-file (its first packet comes before we
 * can discard it), and the MLP and VC-1 parsers build tables behind a pthread_once. */
static void warm_parsers(void)
{
	void *it = NULL;
	const AVCodecParser *p;
	while ((p = av_parser_iterate(&it))) {
		for (size_t i = 0;
		     i < sizeof p->codec_ids / sizeof p->codec_ids[0] && p->codec_ids[i]; i++)
			av_parser_close(av_parser_init(p->codec_ids[i]));
	}
}

/* A swscale context and a conversion for every accepted pixel format (libswscale's one
 * pthread_once sets up its rgb2rgb tables; the rest is per-context set-up, done here
 * anyway so no converter is met for the first time after the line). */
static void warm_scalers(void)
{
	static struct sx_result result;
	AVFrame *frame = av_frame_alloc();
	if (!frame)
		return;
	/* Each format twice: SDR (to RGBA) and PQ (to RGBA64, then tone-mapped). */
	for (size_t n = 0; n < 2 * video_pixel_format_count; n++) {
		size_t i = n % video_pixel_format_count;
		av_frame_unref(frame);
		frame->format = video_pixel_formats[i];
		frame->color_trc = n < video_pixel_format_count ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE2084;
		frame->width = 16;
		frame->height = 16;
		frame->color_range = AVCOL_RANGE_MPEG;
		frame->colorspace = AVCOL_SPC_BT709;
		if (av_frame_get_buffer(frame, 0) < 0)
			continue;
		for (int p = 0; p < 4 && frame->buf[p]; p++)
			memset(frame->buf[p]->data, 0, frame->buf[p]->size);
		uint8_t *rgba = NULL;
		sx_result_init(&result);
		if (scale_to_rgba(frame, 7, 5, &rgba, &result) == SX_OK)
			free(rgba);
	}
	av_frame_free(&frame);
}

bool video_prepare(void **ctx)
{
	*ctx = NULL;
	av_log_set_level(AV_LOG_QUIET);
	av_log_set_callback(silent_log);
	av_get_cpu_flags();
	for (int i = 0; i < AV_CRC_MAX; i++)
		av_crc_get_table((AVCRCId)i);
	warm_parsers();
	video_hdr_prepare();
	warm_scalers();
	return true;
}
