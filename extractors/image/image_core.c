/* image_core.c: the sx-image family: its descriptor, and the decode core that sniffs the
 * format and hands the input to the JPEG or PNG decoder. */
#include "image_core.h"

#include "image_color.h"
#include "image_internal.h"

static const char summary[] =
	"Reads a JPEG (libjpeg-turbo) or PNG (libpng) image. The format comes from magic\n"
	"bytes only; anything else (GIF, SVG, MVG, EPS, random bytes...) is answered\n"
	"'unsupported' before any decoder sees it. --probe returns format, width, height,\n"
	"bit_depth, color_type, has_alpha, progressive, the embedded ICC profile (icc,\n"
	"icc_space, icc_description, icc_ignored), for PNG the colour chunks, and for JPEG\n"
	"EXIF orientation and arithmetic. Image answers are 8-bit RGBA (or RGB) in sRGB\n"
	"(LittleCMS, unless --color raw), EXIF orientation applied; thumbnails use libjpeg\n"
	"DCT scaling then area averaging.";

/* lcms2's allocator, error handler, built-in sRGB and one transform of each kind. */
static bool prepare_image(void **ctx)
{
	*ctx = NULL;
	return color_prepare();
}

static enum sx_status extract_image(void *ctx, const struct sx_request *req, const uint8_t *data,
				    size_t size, struct sx_result *result)
{
	(void)ctx;
	const char *what;
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	switch (sniff_image_format(data, size, &what)) {
	case IMAGE_FORMAT_JPEG: return jpeg_extract(req, data, size, result);
	case IMAGE_FORMAT_PNG: return png_extract(req, data, size, result);
	case IMAGE_FORMAT_UNKNOWN: break;
	}
	return sx_fail(result, SX_ERR_UNSUPPORTED, "not a JPEG or PNG file (looks like %s)", what);
}

const struct sx_family sx_image_family = {
	.name = "sx-image",
	.summary = summary,
	.prepare = prepare_image,
	.prepare_failure = "cannot set up LittleCMS",
	.extract = extract_image,
	/* libjpeg-turbo's SIMD probes and tables, libpng's: a progressive JPEG and an RGBA PNG
	 * through every mode, with a box small enough for DCT scaling and area averaging. */
	.samples = &warm_images,
	.modes = SX_FAMILY_ALL_MODES,
	.warm_box_w = 7,
	.warm_box_h = 5,
};
