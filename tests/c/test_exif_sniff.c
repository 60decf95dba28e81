/* test_exif_sniff.c: EXIF orientation parsing with hostile offsets, and format sniffing. */
#include <string.h>

#include "check.h"
#include "image_internal.h"

static const uint8_t exif_le[] = {
    'E',  'x',	'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, /* IFD0 at 8 */
    1,	  0,						     /* one entry */
    0x12, 0x01, 3,   0,	  1, 0, 0,   0,	  6,  0, 0, 0,	     /* orientation = 6 */
    0,	  0,	0,   0};

static const uint8_t exif_be[] = {'E',	'x',  'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
				  0x01, 0x12, 0,   3,	0, 0, 0,   1,	0, 8,  0, 0, 0, 0, 0, 0};

static void test_exif(void)
{
	uint8_t b[sizeof exif_le];
	CHECK(exif_orientation(exif_le, sizeof exif_le) == 6);
	CHECK(exif_orientation(exif_be, sizeof exif_be) == 8);
	memcpy(b, exif_le, sizeof b);
	b[6 + 8 + 2 + 8] = 9; /* orientation 9 does not exist */
	CHECK(exif_orientation(b, sizeof b) == 1);
	memcpy(b, exif_le, sizeof b);
	b[6 + 4] = 0xF0; /* IFD offset far past the end */
	b[6 + 7] = 0x7F;
	CHECK(exif_orientation(b, sizeof b) == 1);
	memcpy(b, exif_le, sizeof b);
	b[6 + 8] = 0xFF; /* 65535 entries claimed */
	b[6 + 9] = 0xFF;
	CHECK(exif_orientation(b, sizeof b) == 1);
	for (size_t cut = 0; cut < sizeof exif_le; cut++)
		CHECK(exif_orientation(exif_le, cut) == 1 || cut >= 6 + 8 + 2 + 12);
}

static void test_sniff(void)
{
	const char *what;
	CHECK(sniff_image_format((const uint8_t *)"\xFF\xD8\xFF\xE0", 4, &what) ==
	      IMAGE_FORMAT_JPEG);
	CHECK(sniff_image_format((const uint8_t *)"\x89PNG\r\n\x1A\n", 8, &what) ==
	      IMAGE_FORMAT_PNG);
	CHECK(sniff_image_format((const uint8_t *)"\x89PNG\r\n", 6, &what) == IMAGE_FORMAT_UNKNOWN);
	CHECK(sniff_image_format((const uint8_t *)"GIF89a....", 10, &what) == IMAGE_FORMAT_GIF);
	CHECK(sniff_image_format((const uint8_t *)"GIF87a....", 10, &what) == IMAGE_FORMAT_GIF);
	CHECK(sniff_image_format((const uint8_t *)"GIF88a....", 10, &what) == IMAGE_FORMAT_UNKNOWN);
	CHECK(strcmp(what, "GIF") == 0);
	CHECK(sniff_image_format((const uint8_t *)"RIFF\0\0\0\0WEBP", 12, &what) ==
	      IMAGE_FORMAT_WEBP);
	CHECK(sniff_image_format((const uint8_t *)"RIFF\0\0\0\0AVI ", 12, &what) ==
	      IMAGE_FORMAT_UNKNOWN);
	static const char mvg[] = "push graphic-context\nviewbox 0 0 640 480\n";
	CHECK(sniff_image_format((const uint8_t *)mvg, sizeof mvg - 1, &what) ==
	      IMAGE_FORMAT_UNKNOWN);
	CHECK(strcmp(what, "MVG") == 0);
	static const char svg[] = "\xEF\xBB\xBF  <?xml version=\"1.0\"?><svg/>";
	sniff_image_format((const uint8_t *)svg, sizeof svg - 1, &what);
	CHECK(strcmp(what, "SVG/XML") == 0);
	sniff_image_format((const uint8_t *)"%!PS-Adobe-3.0 EPSF-3.0", 23, &what);
	CHECK(strcmp(what, "PostScript/EPS") == 0);
}

int main(void)
{
	test_exif();
	test_sniff();
	return check_exit_status("test_exif_sniff");
}
