/* font_core.c: the sx-font decode core: the engine, sniffing, opening faces, the probe. */
#include "font_core.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include FT_MODULE_H
#include FT_FONT_FORMATS_H

#include "font_internal.h"

const struct font_script font_scripts[] = {
	{"covers_latin", {0x41, 0x5A, 0x61, 0x7A},
	 "The quick brown fox jumps over the lazy dog 0123456789", false},
	{"covers_greek", {0x391, 0x3A9, 0x3B1, 0x3C9}, "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία", false},
	{"covers_cyrillic", {0x410, 0x42F, 0x430, 0x44F},
	 "Съешь же ещё этих мягких французских булок", false},
	{"covers_cjk", {0x4E00, 0x4E2D, 0x5B57, 0x6587}, "天地玄黃宇宙洪荒日月盈昃辰宿列張", false},
	{"covers_arabic", {0x627, 0x628, 0x644, 0x645},
	 "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر", true},
};
const size_t font_script_count = sizeof font_scripts / sizeof font_scripts[0];

/* FreeType modules sx-font never needs: fewer parsers within an attacker's reach. The
 * validators and SVG/SDF renderers are never asked for; the drivers would each accept a
 * font format of their own. */
static const char *const unwanted_modules[] = {
	"type1", "t1cid", "type42", "pfr", "winfonts", "pcf", "bdf",
	"raster1", "ot-svg", "sdf", "bsdf", "gxvalid", "otvalid",
};
static const char *const required_modules[] = {
	"sfnt", "truetype", "cff", "psaux", "psnames", "pshinter", "autofitter", "smooth",
};

static void *ft_alloc(FT_Memory memory, long size)
{
	(void)memory;
	return malloc((size_t)size);
}

static void ft_free(FT_Memory memory, void *block)
{
	(void)memory;
	free(block);
}

static void *ft_realloc(FT_Memory memory, long cur_size, long new_size, void *block)
{
	(void)memory;
	(void)cur_size;
	return realloc(block, (size_t)new_size);
}

bool sx_font_engine_init(struct sx_font_engine *engine)
{
	engine->library = NULL;
	engine->memory.user = NULL;
	engine->memory.alloc = ft_alloc;
	engine->memory.free = ft_free;
	engine->memory.realloc = ft_realloc;
	/* FT_New_Library, not FT_Init_FreeType: the latter also reads FREETYPE_PROPERTIES
	 * from the environment, and the request is argv alone. */
	if (FT_New_Library(&engine->memory, &engine->library) != 0) {
		engine->library = NULL;
		return false;
	}
	FT_Add_Default_Modules(engine->library);
	for (size_t i = 0; i < sizeof unwanted_modules / sizeof unwanted_modules[0]; i++) {
		FT_Module m = FT_Get_Module(engine->library, unwanted_modules[i]);
		if (m)
			FT_Remove_Module(engine->library, m);
	}
	for (size_t i = 0; i < sizeof required_modules / sizeof required_modules[0]; i++) {
		if (!FT_Get_Module(engine->library, required_modules[i])) {
			sx_font_engine_done(engine);
			return false;
		}
	}
	return true;
}

void sx_font_engine_done(struct sx_font_engine *engine)
{
	if (engine->library)
		FT_Done_Library(engine->library);
	engine->library = NULL;
}

static const char *ft_error_text(FT_Error err)
{
	/* FreeType's documented way to build a table of its messages (fterrors.h); Debian's
	 * build has no FT_Error_String. */
#undef FTERRORS_H_
#define FT_ERRORDEF(e, v, s)                                                                   \
	case v:                                                                                \
		return s;
#define FT_ERROR_START_LIST switch (err) {
#define FT_ERROR_END_LIST }
#include FT_ERRORS_H
	return "unknown FreeType error";
}

enum sx_status font_fail(struct sx_result *result, FT_Error err, const char *what)
{
	/* The signature was checked before FreeType saw the data: what it then cannot read
	 * ("unknown file format" included) is a broken font, not another format. */
	enum sx_status status = err == FT_Err_Out_Of_Memory ? SX_ERR_NO_MEMORY : SX_ERR_BAD_INPUT;
	return sx_fail(result, status, "%s: %s", what, ft_error_text(err));
}

bool font_covers(FT_Face face, const struct font_script *script)
{
	if (!face->charmap || face->charmap->encoding != FT_ENCODING_UNICODE)
		return false;
	for (size_t i = 0; i < sizeof script->probe / sizeof script->probe[0]; i++)
		if (FT_Get_Char_Index(face, script->probe[i]) == 0)
			return false;
	return true;
}

/* --- sniffing: only signatures of formats the kept drivers read reach FreeType --- */

struct container {
	const char *magic;
	const char *format; /* the `format` field */
};

static const struct container containers[] = {
	{"\x00\x01\x00\x00", "truetype"}, {"true", "truetype"}, {"OTTO", "opentype"},
	{"ttcf", "collection"},           {"wOFF", "woff"},     {"wOF2", "woff2"},
};

static const char *what_it_looks_like(const uint8_t *d, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *what;
	} others[] = {
		{"%!PS-AdobeFont", 14, "a PostScript Type 1 font"},
		{"%!FontType1", 11, "a PostScript Type 1 font"},
		{"\x80\x01", 2, "a PFB Type 1 font"},
		{"typ1", 4, "a Type 1 font in an sfnt wrapper"},
		{"STARTFONT", 9, "a BDF bitmap font"},
		{"\x01" "fcp", 4, "a PCF bitmap font"},
		{"MZ", 2, "a Windows FNT/FON or executable"},
		{"\x89PNG", 4, "PNG"},
		{"<?xml", 5, "XML/SVG"},
		{"PK\x03\x04", 4, "ZIP"},
	};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		if (n >= others[i].len && memcmp(d, others[i].magic, others[i].len) == 0)
			return others[i].what;
	return "unknown data";
}

/* The `format` for a signature sx-font reads; NULL otherwise, with the error set. */
static const char *sniff(const uint8_t *data, size_t size, struct sx_result *result,
			 enum sx_status *status)
{
	for (size_t i = 0; i < sizeof containers / sizeof containers[0]; i++) {
		size_t n = size < 4 ? size : 4;
		if (memcmp(data, containers[i].magic, n) != 0)
			continue;
		if (size >= 4)
			return containers[i].format;
		*status = sx_fail(result, SX_ERR_BAD_INPUT, "%zu bytes: a truncated %s font", size,
				  containers[i].format);
		return NULL;
	}
	*status = sx_fail(result, SX_ERR_UNSUPPORTED,
			  "not a TrueType, OpenType, collection, WOFF or WOFF2 font (looks like %s)",
			  what_it_looks_like(data, size));
	return NULL;
}

/* --- probe --- */

static const char *outline_name(FT_Face face)
{
	if (!FT_IS_SCALABLE(face))
		return "bitmap";
	const char *f = FT_Get_Font_Format(face);
	if (f && strcmp(f, "TrueType") == 0)
		return "truetype";
	if (f && strcmp(f, "CFF") == 0)
		return "cff";
	return "other";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Appends "family style" of `face` to the newline-separated list in buf. Control
 * characters become '?' (the list's separator must stay unambiguous). */
static void append_face_name(char *buf, size_t cap, size_t *len, FT_Face face)
{
	const char *parts[] = {or_empty(face->family_name), " ", or_empty(face->style_name)};
	if (*len > 0 && *len + 1 < cap)
		buf[(*len)++] = '\n';
	for (size_t p = 0; p < 3; p++)
		for (const char *s = parts[p]; *s && *len + 1 < cap; s++)
			buf[(*len)++] = (unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s;
	buf[*len] = '\0';
}

static void list_faces(FT_Library lib, const uint8_t *data, size_t size, FT_Face open_face,
		       long num_faces, struct sx_meta *m)
{
	char buf[SX_META_STRING_MAX + 1];
	size_t len = 0;
	buf[0] = '\0';
	long n = num_faces < (long)SX_FONT_MAX_LISTED_FACES ? num_faces
							    : (long)SX_FONT_MAX_LISTED_FACES;
	for (long i = 0; i < n && len + 1 < sizeof buf; i++) {
		if (i == open_face->face_index) {
			append_face_name(buf, sizeof buf, &len, open_face);
			continue;
		}
		FT_Face f;
		if (FT_New_Memory_Face(lib, data, (FT_Long)size, i, &f) == 0) {
			append_face_name(buf, sizeof buf, &len, f);
			FT_Done_Face(f);
		} else {
			if (len > 0 && len + 1 < sizeof buf)
				buf[len++] = '\n';
			if (len + 1 < sizeof buf)
				buf[len++] = '?';
			buf[len] = '\0';
		}
	}
	sx_meta_add_string(m, "faces", buf, len);
}

static void describe(FT_Library lib, const uint8_t *data, size_t size, FT_Face face,
		     const char *format, long num_faces, struct sx_meta *m)
{
	sx_meta_add_cstring(m, "format", format);
	sx_meta_add_int(m, "face_index", face->face_index & 0xFFFF);
	sx_meta_add_int(m, "num_faces", num_faces);
	sx_meta_add_cstring(m, "family_name", or_empty(face->family_name));
	sx_meta_add_cstring(m, "style_name", or_empty(face->style_name));
	sx_meta_add_cstring(m, "postscript_name", or_empty(FT_Get_Postscript_Name(face)));
	sx_meta_add_int(m, "num_glyphs", face->num_glyphs);
	sx_meta_add_int(m, "units_per_em", face->units_per_EM);
	sx_meta_add_cstring(m, "outline", outline_name(face));
	sx_meta_add_bool(m, "scalable", FT_IS_SCALABLE(face));
	sx_meta_add_bool(m, "fixed_pitch", FT_IS_FIXED_WIDTH(face));
	sx_meta_add_bool(m, "bold", face->style_flags & FT_STYLE_FLAG_BOLD);
	sx_meta_add_bool(m, "italic", face->style_flags & FT_STYLE_FLAG_ITALIC);
	sx_meta_add_bool(m, "variable", FT_HAS_MULTIPLE_MASTERS(face));
	for (size_t i = 0; i < font_script_count; i++)
		sx_meta_add_bool(m, font_scripts[i].key, font_covers(face, &font_scripts[i]));
	list_faces(lib, data, size, face, num_faces, m);
}

enum sx_status sx_font_extract_with(struct sx_font_engine *engine, const struct sx_request *req,
				    const uint8_t *data, size_t size, struct sx_result *result)
{
	enum sx_status status = SX_OK;
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	const char *format = sniff(data, size, result, &status);
	if (!format)
		return status;
	if (size > LONG_MAX)
		return sx_fail(result, SX_ERR_LIMIT, "font larger than FreeType can address");

	/* Index -1 only checks the format and counts the faces. */
	FT_Face face;
	FT_Error err = FT_New_Memory_Face(engine->library, data, (FT_Long)size, -1, &face);
	if (err)
		return font_fail(result, err, "cannot open the font");
	long num_faces = face->num_faces;
	FT_Done_Face(face);
	if (num_faces < 1)
		return sx_fail(result, SX_ERR_BAD_INPUT, "the font holds no face");
	if ((long)req->face_index >= num_faces)
		return sx_fail(result, SX_ERR_BAD_REQUEST, "face %u requested; the font has %ld",
			       req->face_index, num_faces);

	err = FT_New_Memory_Face(engine->library, data, (FT_Long)size, (FT_Long)req->face_index,
				 &face);
	if (err)
		return font_fail(result, err, "cannot open the face");
	if (req->mode == SX_MODE_PROBE) {
		describe(engine->library, data, size, face, format, num_faces, &result->meta);
		result->kind = SX_RESULT_META;
	} else {
		status = font_render_preview(req, face, result);
	}
	FT_Done_Face(face);
	return status;
}

enum sx_status sx_font_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			       struct sx_result *result)
{
	struct sx_font_engine engine;
	if (!sx_font_engine_init(&engine))
		return sx_fail(result, SX_ERR_NO_MEMORY, "cannot initialise FreeType");
	enum sx_status status = sx_font_extract_with(&engine, req, data, size, result);
	sx_font_engine_done(&engine);
	return status;
}
