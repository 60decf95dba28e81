/* sniff.c: tells JPEG, PNG, WebP and GIF from everything else by magic bytes, never by name. */
#include <string.h>

#include "image_internal.h"
#include "sx_magic.h"

enum image_format sniff_image_format(const uint8_t *data, size_t size, const char **what)
{
	*what = "unknown data";
	/* SOI alone claims JPEG: what follows it is libjpeg's to judge (bad input). */
	if (size >= 2 && memcmp(data, "\xFF\xD8", 2) == 0)
		return IMAGE_FORMAT_JPEG;
	if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1A\n", 8) == 0)
		return IMAGE_FORMAT_PNG;
	if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return IMAGE_FORMAT_WEBP;
	if (size >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
		return IMAGE_FORMAT_GIF;
	*what = sx_magic_describe(data, size);
	return IMAGE_FORMAT_UNKNOWN;
}
