/* exif.c: reads the orientation tag from an EXIF APP1 block, with every offset checked. */
#include <string.h>

#include "image_internal.h"
#include "sx_bytes.h"

static uint32_t get16(const uint8_t *p, int le)
{
	return le ? sx_get_le16(p) : sx_get_be16(p);
}

static uint32_t get32(const uint8_t *p, int le)
{
	return le ? sx_get_le32(p) : sx_get_be32(p);
}

int exif_orientation(const uint8_t *app1, size_t len)
{
	if (len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0)
		return 1;
	const uint8_t *tiff = app1 + 6;
	size_t n = len - 6;
	int le;
	if (tiff[0] == 'I' && tiff[1] == 'I')
		le = 1;
	else if (tiff[0] == 'M' && tiff[1] == 'M')
		le = 0;
	else
		return 1;
	if (get16(tiff + 2, le) != 42)
		return 1;
	uint32_t ifd = get32(tiff + 4, le);
	if (ifd > n || n - ifd < 2)
		return 1;
	uint32_t entries = get16(tiff + ifd, le);
	if (entries > (n - ifd - 2) / 12)
		return 1;
	for (uint32_t i = 0; i < entries; i++) {
		const uint8_t *e = tiff + ifd + 2 + (size_t)i * 12;
		if (get16(e, le) != 0x0112)
			continue;
		/* SHORT, count 1: the value sits in the first two bytes of the value field. */
		if (get16(e + 2, le) != 3 || get32(e + 4, le) != 1)
			return 1;
		uint32_t v = get16(e + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}
