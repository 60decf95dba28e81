/* image_core.c: the sx-image family: its descriptor, and the decode core that sniffs the
 * format and hands the input to the JPEG, PNG, WebP or GIF decoder. */
#include "image_core.h"

#include "image_apng.h"
#include "image_color.h"
#include "image_frames.h"
#include "image_internal.h"

#include <string.h>

#include "sx_bytes.h"

static const char summary[] =
    "Reads a JPEG (libjpeg-turbo), PNG/APNG (libpng), WebP (libwebp) or GIF (giflib)\n"
    "image. The format comes from magic bytes only; anything else (SVG, MVG, EPS, BMP,\n"
    "random bytes...) is answered 'unsupported' before any decoder sees it. --probe\n"
    "returns format, width, height, bit_depth, color_type, has_alpha, progressive, the\n"
    "embedded ICC profile (icc, icc_space, icc_description, icc_ignored), for PNG the\n"
    "colour chunks, for JPEG arithmetic, for JPEG and WebP EXIF orientation, for GIF,\n"
    "WebP and APNG animated, frame_count, frame_count_capped, loop_count and duration.\n"
    "Image answers are 8-bit\n"
    "RGBA (or RGB) in sRGB (LittleCMS, unless --color raw), EXIF orientation applied,\n"
    "the first frame of an animation; thumbnails use libjpeg DCT scaling or libwebp's\n"
    "scaled decode, then area averaging. --frames N answers up to N frames of a GIF,\n"
    "WebP or APNG animation, composited (a still image: one frame).";

/* lcms2's allocator, error handler, built-in sRGB and one transform of each kind. */
static bool prepare_image(void **ctx)
{
	*ctx = NULL;
	return color_prepare();
}

/* A fork server: Display P3's 8-bit transform, built once. sx-image meets CICP only in
 * PNG cICP, rare next to ICC profiles, so only the first description of the list: the
 * whole list would add about 40 ms to a server start that otherwise takes about 15
 * (bench/RESULTS.md, issue 16c), once every 100 requests or 60 s (retirement). */
static void prepare_server_image(void *ctx)
{
	(void)ctx;
	(void)color_cache_build(1);
}

/* An ISO media file whose ftyp lists a HEIF or AVIF brand: sx-heif reads those. */
static bool is_heif(const uint8_t *data, size_t size)
{
	static const char brands[][5] = {"heic", "heix", "hevc", "heim", "heis",
					 "mif1", "msf1", "avif", "avis"};
	if (size < 16 || memcmp(data + 4, "ftyp", 4) != 0)
		return false;
	size_t end = sx_get_be32(data);
	end = end < size ? end : size;
	for (size_t at = 8; at + 4 <= end && at < 8 + 4 * 32; at += 4)
		for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
			if (memcmp(data + at, brands[i], 4) == 0)
				return true;
	return false;
}

static enum sx_status extract_one(const struct sx_request *req, const uint8_t *data, size_t size,
				  struct sx_result *result)
{
	const char *what;
	switch (sniff_image_format(data, size, &what)) {
	case IMAGE_FORMAT_JPEG: return jpeg_extract(req, data, size, result);
	case IMAGE_FORMAT_PNG:
		if (req->frames && apng_is_animated(data, size))
			return apng_frames(req, data, size, result);
		return png_extract(req, data, size, result);
	case IMAGE_FORMAT_WEBP: return webp_extract(req, data, size, result);
	case IMAGE_FORMAT_GIF: return gif_extract(req, data, size, result);
	case IMAGE_FORMAT_UNKNOWN: break;
	}
	if (is_heif(data, size))
		return sx_fail(
		    result, SX_ERR_UNSUPPORTED,
		    "HEIC/AVIF is read by sx-heif, not sx-image (STREAM_IMAGE routes it)");
	return sx_fail(result, SX_ERR_UNSUPPORTED,
		       "not a JPEG, PNG, WebP or GIF file (looks like %s)", what);
}

static enum sx_status extract_image(void *ctx, const struct sx_request *req, const uint8_t *data,
				    size_t size, struct sx_result *result)
{
	(void)ctx;
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	enum sx_status status = extract_one(req, data, size, result);
	/* --frames: a still image (or a decoder without frames) answers one frame. */
	if (status == SX_OK && req->frames && result->kind == SX_RESULT_IMAGE)
		frames_from_image(result);
	return status;
}

const struct sx_family sx_image_family = {
    .name = "sx-image",
    .summary = summary,
    .prepare = prepare_image,
    .prepare_server = prepare_server_image,
    .prepare_failure = "cannot set up LittleCMS",
    .extract = extract_image,
    /* libjpeg-turbo's SIMD probes and tables, libpng's, libwebp's (lossy, lossless, alpha,
     * animated), giflib's: a progressive JPEG, an RGBA PNG, WebPs and a GIF
     * through every mode, with a box small enough for DCT scaling and area averaging. */
    .samples = &warm_images,
    .modes = SX_FAMILY_ALL_MODES,
    .warm_box_w = 7,
    .warm_box_h = 5,
    .frames = true,
};
