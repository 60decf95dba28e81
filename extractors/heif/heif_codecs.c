/* heif_codecs.c: libheif decoder plugins over libavcodec, one thread (heif_codecs.h). */
#include "heif_codecs.h"

#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>
#include <libheif/heif_plugin.h>
#include <stdlib.h>
#include <string.h>

/* Above libheif 1.15's built-in plugins (the highest wins; test_heif.py shows ours are
 * used: with them unregistered the extractor is killed for a thread). */
#define PLUGIN_PRIORITY 1000

static uint64_t max_coded_pixels = 1;

void heif_codecs_set_max_pixels(uint64_t max_pixels)
{
	max_coded_pixels = max_pixels ? max_pixels : 1;
}

struct codec_job {
	enum AVCodecID id;
	uint8_t *data; /* what libheif pushed: Annex B for HEVC, OBUs for AV1 */
	size_t size, cap;
};

static struct heif_error fail(const char *why)
{
	struct heif_error e = {heif_error_Decoder_plugin_error, heif_suberror_Unspecified, why};
	return e;
}

static const struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, "ok"};

static bool grow(struct codec_job *job, size_t more)
{
	if (more > SIZE_MAX - job->size - AV_INPUT_BUFFER_PADDING_SIZE)
		return false;
	size_t need = job->size + more + AV_INPUT_BUFFER_PADDING_SIZE;
	if (need <= job->cap)
		return true;
	size_t cap = job->cap ? job->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(job->data, cap);
	if (!p)
		return false;
	job->data = p;
	job->cap = cap;
	return true;
}

static struct heif_error new_job(void **decoder, enum AVCodecID id)
{
	struct codec_job *job = calloc(1, sizeof(*job));
	if (!job)
		return fail("out of memory");
	job->id = id;
	*decoder = job;
	return ok;
}

static struct heif_error new_hevc(void **decoder)
{
	return new_job(decoder, AV_CODEC_ID_HEVC);
}

static struct heif_error new_av1(void **decoder)
{
	return new_job(decoder, AV_CODEC_ID_AV1);
}

static void free_job(void *decoder)
{
	struct codec_job *job = decoder;
	if (job)
		free(job->data);
	free(job);
}

/* libheif hands HEVC as NAL units each behind a 4-byte big-endian length (the hvcC
 * parameter sets, then the item's data); FFmpeg's hevc decoder without extradata reads
 * Annex B, so each length becomes a start code. AV1 OBUs go through as they are. */
static struct heif_error push_data(void *decoder, const void *data, size_t size)
{
	struct codec_job *job = decoder;
	const uint8_t *p = data;
	/* libheif pushes an empty av1C's config OBUs as (NULL, 0). */
	if (size == 0)
		return ok;
	if (job->id != AV_CODEC_ID_HEVC) {
		if (!grow(job, size))
			return fail("out of memory");
		memcpy(job->data + job->size, p, size);
		job->size += size;
		return ok;
	}
	while (size > 0) {
		if (size < 4)
			return fail("truncated NAL length");
		uint32_t n =
		    (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		p += 4;
		size -= 4;
		if (n > size)
			return fail("NAL unit beyond the data");
		if (!grow(job, (size_t)n + 4))
			return fail("out of memory");
		static const uint8_t start[4] = {0, 0, 0, 1};
		memcpy(job->data + job->size, start, 4);
		memcpy(job->data + job->size + 4, p, n);
		job->size += (size_t)n + 4;
		p += n;
		size -= n;
	}
	return ok;
}

/* libdav1d starts worker threads unless told otherwise (extractors/video/video_core.c
 * explains FFmpeg 5.1's wrapper): one tile thread, one frame thread, frame delay 1. */
static AVCodecContext *open_decoder(enum AVCodecID id)
{
	const AVCodec *codec = id == AV_CODEC_ID_AV1 ? avcodec_find_decoder_by_name("libdav1d")
						     : avcodec_find_decoder(id);
	if (!codec)
		return NULL;
	AVCodecContext *dec = avcodec_alloc_context3(codec);
	if (!dec)
		return NULL;
	/* Strict mode has no clone(): no frame or slice threads. */
	dec->thread_count = 1;
	dec->thread_type = 0;
	dec->max_pixels = (int64_t)max_coded_pixels;
	AVDictionary *opts = NULL;
	int err =
	    av_dict_set(&opts, "codec_whitelist", id == AV_CODEC_ID_AV1 ? "libdav1d" : "hevc", 0);
	if (err >= 0 && id == AV_CODEC_ID_AV1) {
		if (av_dict_set(&opts, "tilethreads", "1", 0) < 0 ||
		    av_dict_set(&opts, "framethreads", "1", 0) < 0 ||
		    av_dict_set(&opts, "max_frame_delay", "1", 0) < 0)
			err = -1;
	}
	if (err >= 0)
		err = avcodec_open2(dec, codec, &opts);
	av_dict_free(&opts);
	if (err < 0)
		avcodec_free_context(&dec);
	return dec;
}

static enum heif_chroma chroma_of(const AVPixFmtDescriptor *d)
{
	if (d->nb_components == 1)
		return heif_chroma_monochrome;
	if (d->log2_chroma_w == 1 && d->log2_chroma_h == 1)
		return heif_chroma_420;
	if (d->log2_chroma_w == 1 && d->log2_chroma_h == 0)
		return heif_chroma_422;
	if (d->log2_chroma_w == 0 && d->log2_chroma_h == 0)
		return heif_chroma_444;
	return heif_chroma_undefined;
}

/* The decoder's colour description (HEVC VUI, AV1 sequence header) as nclx; libheif
 * prefers the item's own colr box when it has one. */
static void attach_nclx(struct heif_image *img, const AVFrame *f, const AVPixFmtDescriptor *d)
{
	struct heif_color_profile_nclx *nclx = heif_nclx_color_profile_alloc();
	if (!nclx)
		return;
	if (f->color_primaries != AVCOL_PRI_UNSPECIFIED)
		heif_nclx_color_profile_set_color_primaries(nclx, (uint16_t)f->color_primaries);
	if (f->color_trc != AVCOL_TRC_UNSPECIFIED)
		heif_nclx_color_profile_set_transfer_characteristics(nclx, (uint16_t)f->color_trc);
	if (f->colorspace != AVCOL_SPC_UNSPECIFIED)
		heif_nclx_color_profile_set_matrix_coefficients(nclx, (uint16_t)f->colorspace);
	nclx->full_range_flag =
	    f->color_range == AVCOL_RANGE_JPEG || (d->name && strncmp(d->name, "yuvj", 4) == 0);
	heif_image_set_nclx_color_profile(img, nclx);
	heif_nclx_color_profile_free(nclx);
}

static struct heif_error copy_frame(const AVFrame *f, struct heif_image **out)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	if (!d || (d->flags & (AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_RGB)))
		return fail("unexpected decoded pixel format");
	enum heif_chroma chroma = chroma_of(d);
	int depth = d->comp[0].depth;
	if (chroma == heif_chroma_undefined || depth < 8 || depth > 16 || f->width <= 0 ||
	    f->height <= 0)
		return fail("unexpected decoded pixel format");
	struct heif_image *img = NULL;
	struct heif_error e =
	    heif_image_create(f->width, f->height, heif_colorspace_YCbCr, chroma, &img);
	if (e.code)
		return e;
	static const enum heif_channel channels[3] = {heif_channel_Y, heif_channel_Cb,
						      heif_channel_Cr};
	size_t bytes = depth > 8 ? 2 : 1;
	for (int c = 0; c < (chroma == heif_chroma_monochrome ? 1 : 3); c++) {
		int w = c ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w) : f->width;
		int h = c ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h) : f->height;
		e = heif_image_add_plane(img, channels[c], w, h, depth);
		if (e.code) {
			heif_image_release(img);
			return e;
		}
		int stride = 0;
		uint8_t *dst = heif_image_get_plane(img, channels[c], &stride);
		if (!dst || stride < 0 || (size_t)stride < (size_t)w * bytes) {
			heif_image_release(img);
			return fail("cannot get an image plane");
		}
		for (int y = 0; y < h; y++)
			memcpy(dst + (size_t)y * (size_t)stride,
			       f->data[c] + (ptrdiff_t)y * f->linesize[c], (size_t)w * bytes);
	}
	attach_nclx(img, f, d);
	*out = img;
	return ok;
}

static struct heif_error decode_image(void *decoder, struct heif_image **out)
{
	struct codec_job *job = decoder;
	if (!job->data || job->size == 0)
		return fail("no coded data");
	memset(job->data + job->size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
	AVCodecContext *dec = open_decoder(job->id);
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	struct heif_error e = fail("cannot open the decoder");
	if (dec && pkt && frame) {
		pkt->data = job->data;
		pkt->size = job->size > INT32_MAX - 64 ? 0 : (int)job->size;
		e = fail("the coded image does not decode");
		int err = pkt->size ? avcodec_send_packet(dec, pkt) : -1;
		/* One coded picture: drain, so decoders with a delay hand it over. */
		if (err >= 0 || err == AVERROR(EAGAIN))
			err = avcodec_send_packet(dec, NULL);
		if (err >= 0 || err == AVERROR_EOF)
			err = avcodec_receive_frame(dec, frame);
		if (err >= 0)
			e = copy_frame(frame, out);
	}
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	return e;
}

static void set_strict(void *decoder, int flag)
{
	(void)decoder;
	(void)flag;
}

static const char *hevc_name(void)
{
	return "libavcodec hevc, one thread (sandbox-extractor)";
}

static const char *av1_name(void)
{
	return "libavcodec libdav1d, one thread (sandbox-extractor)";
}

static int hevc_support(enum heif_compression_format format)
{
	return format == heif_compression_HEVC ? PLUGIN_PRIORITY : 0;
}

static int av1_support(enum heif_compression_format format)
{
	return format == heif_compression_AV1 ? PLUGIN_PRIORITY : 0;
}

static const struct heif_decoder_plugin hevc_plugin = {
    .plugin_api_version = 3,
    .get_plugin_name = hevc_name,
    .does_support_format = hevc_support,
    .new_decoder = new_hevc,
    .free_decoder = free_job,
    .push_data = push_data,
    .decode_image = decode_image,
    .set_strict_decoding = set_strict,
    .id_name = HEIF_CODECS_HEVC_ID,
};

static const struct heif_decoder_plugin av1_plugin = {
    .plugin_api_version = 3,
    .get_plugin_name = av1_name,
    .does_support_format = av1_support,
    .new_decoder = new_av1,
    .free_decoder = free_job,
    .push_data = push_data,
    .decode_image = decode_image,
    .set_strict_decoding = set_strict,
    .id_name = HEIF_CODECS_AV1_ID,
};

bool heif_codecs_register(void)
{
	return heif_register_decoder_plugin(&hevc_plugin).code == heif_error_Ok &&
	       heif_register_decoder_plugin(&av1_plugin).code == heif_error_Ok;
}
