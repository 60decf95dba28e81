/* sniff.c: tells JPEG and PNG from everything else by magic bytes, never by name. */
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
	*what = sx_magic_describe(data, size);
	return IMAGE_FORMAT_UNKNOWN;
}
