/* sx_magic.c: the "looks like" table of every extractor's error details. */
#include "sx_magic.h"

#include <stdbool.h>
#include <string.h>

/* Where a signature is looked for. */
enum where {
	AT_START, /* at offset 0 */
	AS_TEXT,  /* at offset 0 once a UTF-8 BOM and whitespace are skipped */
	AT_4,	  /* at offset 4 (ISO media's ftyp) */
	RIFF_AT_8 /* "RIFF" at 0 and this form type at 8 */
};

struct signature {
	enum where where;
	const char *magic;
	size_t len;
	const char *what;
};

#define SIG(where, magic, what)                                                                    \
	{                                                                                          \
		where, magic, sizeof magic - 1, what                                               \
	}

/* First match wins: longer, more specific signatures come before their prefixes. */
static const struct signature signatures[] = {
    SIG(AT_START, "\xFF\xD8\xFF", "JPEG"),
    SIG(AT_START, "\x89PNG", "PNG"),
    SIG(AT_START, "GIF8", "GIF"),
    SIG(RIFF_AT_8, "WEBP", "WebP"),
    SIG(RIFF_AT_8, "AVI ", "AVI"),
    SIG(RIFF_AT_8, "WAVE", "WAV"),
    SIG(AT_START, "II*\0", "TIFF"),
    SIG(AT_START, "MM\0*", "TIFF"),
    SIG(AT_4, "ftyp", "ISO media (MP4/HEIF/AVIF)"),
    SIG(AT_START, "\x1A\x45\xDF\xA3", "Matroska/WebM"),
    SIG(AT_START, "FLV", "FLV"),
    SIG(AT_START, "OggS", "Ogg"),
    SIG(AT_START, "ID3", "audio (MP3)"),
    SIG(AT_START, "fLaC", "audio (FLAC)"),
    SIG(AS_TEXT, "#EXTM3U", "HLS playlist"),
    SIG(AS_TEXT, "ffconcat", "ffconcat list"),
    SIG(AT_START, "%!PS-AdobeFont", "PostScript Type 1 font"),
    SIG(AT_START, "%!FontType1", "PostScript Type 1 font"),
    SIG(AT_START, "\x80\x01", "PFB Type 1 font"),
    SIG(AT_START, "typ1", "Type 1 font in an sfnt wrapper"),
    SIG(AT_START, "STARTFONT", "BDF bitmap font"),
    SIG(AT_START,
	"\x01"
	"fcp",
	"PCF bitmap font"),
    SIG(AT_START, "\xC5\xD0\xD3\xC6", "PostScript/EPS"),
    SIG(AS_TEXT, "%!", "PostScript/EPS"),
    SIG(AS_TEXT, "<?xml", "SVG/XML"),
    SIG(AS_TEXT, "<svg", "SVG/XML"),
    SIG(AS_TEXT, "<!DOCTYPE", "SVG/XML"),
    SIG(AS_TEXT, "<", "XML/HTML (a DASH manifest?)"),
    SIG(AS_TEXT, "push ", "MVG"),
    SIG(AS_TEXT, "viewbox", "MVG"),
    SIG(AT_START, "PK\3\4", "ZIP"),
    SIG(AT_START, "MZ", "Windows executable or FNT/FON font"),
    SIG(AT_START, "BM", "BMP"),
    SIG(AT_START, "\x1BLua", "Lua bytecode"),
};

static bool has(const uint8_t *d, size_t n, size_t at, const char *magic, size_t len)
{
	return n >= at && n - at >= len && memcmp(d + at, magic, len) == 0;
}

/* Offset of the first byte after a UTF-8 BOM and whitespace. */
static size_t text_start(const uint8_t *d, size_t n)
{
	size_t i = has(d, n, 0, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i;
}

const char *sx_magic_describe(const uint8_t *data, size_t size)
{
	size_t text = text_start(data, size);
	for (size_t i = 0; i < sizeof signatures / sizeof signatures[0]; i++) {
		const struct signature *s = &signatures[i];
		bool match = false;
		switch (s->where) {
		case AT_START: match = has(data, size, 0, s->magic, s->len); break;
		case AS_TEXT: match = has(data, size, text, s->magic, s->len); break;
		case AT_4: match = has(data, size, 4, s->magic, s->len); break;
		case RIFF_AT_8:
			match =
			    has(data, size, 0, "RIFF", 4) && has(data, size, 8, s->magic, s->len);
			break;
		}
		if (match)
			return s->what;
	}
	return "unknown data";
}
