/* sniff.c: tells JPEG and PNG from everything else by magic bytes, never by name. */
#include <string.h>

#include "image_internal.h"

static int starts_with(const uint8_t *d, size_t n, const char *magic, size_t mlen)
{
	return n >= mlen && memcmp(d, magic, mlen) == 0;
}

/* Skips a UTF-8 BOM and leading whitespace, for the text formats. */
static const uint8_t *skip_text_prefix(const uint8_t *d, size_t *n)
{
	if (*n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) {
		d += 3;
		*n -= 3;
	}
	while (*n > 0 && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n')) {
		d++;
		(*n)--;
	}
	return d;
}

enum image_format sniff_image_format(const uint8_t *data, size_t size, const char **what)
{
	*what = "unknown data";
	/* SOI alone claims JPEG: what follows it is libjpeg's to judge (bad input). */
	if (starts_with(data, size, "\xFF\xD8", 2))
		return IMAGE_FORMAT_JPEG;
	if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8))
		return IMAGE_FORMAT_PNG;

	size_t n = size;
	const uint8_t *t = skip_text_prefix(data, &n);
	if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6))
		*what = "GIF";
	else if (size >= 12 && starts_with(data, size, "RIFF", 4) && memcmp(data + 8, "WEBP", 4) == 0)
		*what = "WebP";
	else if (starts_with(data, size, "BM", 2))
		*what = "BMP";
	else if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4))
		*what = "TIFF";
	else if (size >= 12 && memcmp(data + 4, "ftyp", 4) == 0)
		*what = "ISO media (MP4/HEIF/AVIF)";
	else if (starts_with(data, size, "\xC5\xD0\xD3\xC6", 4) || starts_with(t, n, "%!", 2))
		*what = "PostScript/EPS";
	else if (starts_with(t, n, "<?xml", 5) || starts_with(t, n, "<svg", 4) ||
		 starts_with(t, n, "<!DOCTYPE", 9))
		*what = "SVG/XML";
	else if (starts_with(t, n, "push ", 5) || starts_with(t, n, "viewbox", 7))
		*what = "MVG";
	else if (starts_with(data, size, "PK\3\4", 4))
		*what = "ZIP";
	return IMAGE_FORMAT_UNKNOWN;
}
