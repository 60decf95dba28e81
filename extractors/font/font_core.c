/* font_core.c: the sx-font family: its descriptor, the engine, sniffing, opening faces,
 * the probe. */
#include "font_core.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "font_internal.h"
#include "sx_magic.h"

#include FT_MODULE_H
#include FT_FONT_FORMATS_H
#include FT_SYSTEM_H

/* One FT_Library over malloc (the pool in the extractor) with only the modules sx-font
 * needs; made before the line, used by every extraction of the process. */
struct sx_font_engine {
	FT_Library library;
	struct FT_MemoryRec_ memory; /* must outlive the library */
};

/* FreeType modules sx-font never needs: fewer parsers within an attacker's reach. The
 * validators and SVG/SDF renderers are never asked for; the drivers would each accept a
 * font format of their own. */
static const char *const unwanted_modules[] = {
    "type1",   "t1cid",	 "type42", "pfr",  "winfonts", "pcf",	  "bdf",
    "raster1", "ot-svg", "sdf",	   "bsdf", "gxvalid",  "otvalid",
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

static void engine_done(struct sx_font_engine *engine);

static bool engine_init(struct sx_font_engine *engine)
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
			engine_done(engine);
			return false;
		}
	}
	return true;
}

static void engine_done(struct sx_font_engine *engine)
{
	if (engine->library)
		FT_Done_Library(engine->library);
	engine->library = NULL;
}

/* --- sniffing: only signatures of formats the kept drivers read reach FreeType --- */

struct container {
	const char *magic;
	const char *format; /* the `format` field */
};

static const struct container containers[] = {
    {"\x00\x01\x00\x00", "truetype"}, {"true", "truetype"}, {"OTTO", "opentype"},
    {"ttcf", "collection"},	      {"wOFF", "woff"},	    {"wOF2", "woff2"},
};

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
	*status =
	    sx_fail(result, SX_ERR_UNSUPPORTED,
		    "not a TrueType, OpenType, collection, WOFF or WOFF2 font (looks like %s)",
		    sx_magic_describe(data, size));
	return NULL;
}

/* --- probe --- */

/* From the glyph store font_validate.c found (FreeType calls an sbix font with outlines
 * beside its strikes not scalable). */
static const char *outline_name(const char *glyph_store)
{
	if (strcmp(glyph_store, "glyf") == 0)
		return "truetype";
	if (strcmp(glyph_store, "CFF") == 0 || strcmp(glyph_store, "CFF2") == 0)
		return "cff";
	return "bitmap";
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
	long n =
	    num_faces < (long)SX_FONT_MAX_LISTED_FACES ? num_faces : (long)SX_FONT_MAX_LISTED_FACES;
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

/* The named instances of a variable face (fvar), one style name a line, in fvar order. */
static void list_instances(FT_Library lib, const uint8_t *data, size_t size, FT_Face face,
			   struct sx_meta *m)
{
	long n = face->style_flags >> 16;
	sx_meta_add_int(m, "num_named_instances", n);
	if (n <= 0)
		return;
	char buf[SX_META_STRING_MAX + 1];
	size_t len = 0;
	buf[0] = '\0';
	if (n > (long)SX_FONT_MAX_LISTED_FACES)
		n = (long)SX_FONT_MAX_LISTED_FACES;
	for (long i = 1; i <= n && len + 1 < sizeof buf; i++) {
		FT_Face f;
		if (FT_New_Memory_Face(lib, data, (FT_Long)size, (i << 16) | face->face_index,
				       &f) != 0)
			break;
		if (len > 0)
			buf[len++] = '\n';
		for (const char *c = or_empty(f->style_name); *c && len + 1 < sizeof buf; c++)
			buf[len++] = (unsigned char)*c < 0x20 || *c == 0x7F ? '?' : *c;
		buf[len] = '\0';
		FT_Done_Face(f);
	}
	sx_meta_add_string(m, "named_instances", buf, len);
}

static void describe(FT_Library lib, const uint8_t *data, size_t size, FT_Face face,
		     const char *format, long num_faces, unsigned upem, const char *glyph_store,
		     struct sx_meta *m)
{
	sx_meta_add_cstring(m, "format", format);
	sx_meta_add_int(m, "face_index", face->face_index & 0xFFFF);
	sx_meta_add_int(m, "num_faces", num_faces);
	sx_meta_add_cstring(m, "family_name", or_empty(face->family_name));
	sx_meta_add_cstring(m, "style_name", or_empty(face->style_name));
	sx_meta_add_cstring(m, "postscript_name", or_empty(FT_Get_Postscript_Name(face)));
	sx_meta_add_int(m, "num_glyphs", face->num_glyphs);
	sx_meta_add_int(m, "units_per_em", upem);
	sx_meta_add_cstring(m, "outline", outline_name(glyph_store));
	sx_meta_add_bool(m, "scalable", strcmp(outline_name(glyph_store), "bitmap") != 0);
	sx_meta_add_bool(m, "fixed_pitch", FT_IS_FIXED_WIDTH(face));
	sx_meta_add_bool(m, "bold", face->style_flags & FT_STYLE_FLAG_BOLD);
	sx_meta_add_bool(m, "italic", face->style_flags & FT_STYLE_FLAG_ITALIC);
	sx_meta_add_bool(m, "variable", FT_HAS_MULTIPLE_MASTERS(face));
	sx_meta_add_bool(m, "color", FT_HAS_COLOR(face));
	list_instances(lib, data, size, face, m);
	for (size_t i = 0; i < font_script_count; i++)
		sx_meta_add_bool(m, font_scripts[i].key, font_covers(face, &font_scripts[i]));
	list_faces(lib, data, size, face, num_faces, m);
}

/* What font_validate.c checked and found (PROTOCOL.md). */
static void describe_checks(const struct font_checks *c, struct sx_meta *m)
{
	sx_meta_add_cstring(m, "validated",
			    "table directory, cmap, head, hhea, hmtx, maxp, name, post, OS/2, "
			    "loca, glyph store");
	sx_meta_add_int(m, "num_tables", c->num_tables);
	sx_meta_add_int(m, "checksum_mismatches", c->checksum_mismatches);
	sx_meta_add_cstring(m, "glyph_store", c->glyph_store ? c->glyph_store : "");
}

static enum sx_status extract_font(void *ctx, const struct sx_request *req, const uint8_t *data,
				   size_t size, struct sx_result *result)
{
	struct sx_font_engine *engine = ctx;
	enum sx_status status = SX_OK;
	if (size == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "empty input");
	const char *format = sniff(data, size, result, &status);
	if (!format)
		return status;
	if (size > LONG_MAX)
		return sx_fail(result, SX_ERR_LIMIT, "font larger than FreeType can address");

	/* The structure first, on the raw bytes: FreeType is lazy and would render what it
	 * reaches of a truncated or inconsistent font. */
	struct font_checks *checks = malloc(sizeof *checks);
	if (!checks)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the font checks");
	status = font_validate_container(data, size, req->face_index, checks, result);
	if (status != SX_OK) {
		free(checks);
		return status;
	}

	/* Index -1 only checks the format and counts the faces. */
	FT_Face face;
	FT_Error err = FT_New_Memory_Face(engine->library, data, (FT_Long)size, -1, &face);
	if (err) {
		free(checks);
		/* A WOFF's tables are inflated here, each to the size its directory declares. */
		return font_fail(result, err,
				 format[0] == 'w' ? "WOFF: cannot decompress the font"
						  : "table directory: cannot open the font");
	}
	long num_faces = face->num_faces;
	FT_Done_Face(face);
	if (num_faces < 1)
		status = sx_fail(result, SX_ERR_BAD_INPUT, "the font holds no face");
	else if ((long)req->face_index >= num_faces)
		status = sx_fail(result, SX_ERR_BAD_REQUEST, "face %u requested; the font has %ld",
				 req->face_index, num_faces);
	else if ((err = FT_New_Memory_Face(engine->library, data, (FT_Long)size,
					   (FT_Long)req->face_index, &face)) != 0)
		status = font_fail(result, err, "cannot open the face");
	if (status != SX_OK) {
		free(checks);
		return status;
	}
	status = font_validate_tables(face, checks, result);
	if (status != SX_OK) {
		FT_Done_Face(face);
		free(checks);
		return status;
	}
	if (req->mode == SX_MODE_PROBE) {
		/* head.unitsPerEm as validated: FreeType says 0 for a bitmap-only face. */
		describe(engine->library, data, size, face, format, num_faces, checks->units_per_em,
			 checks->glyph_store ? checks->glyph_store : "", &result->meta);
		describe_checks(checks, &result->meta);
		result->kind = SX_RESULT_META;
	} else {
		status = font_render_preview(req, face, result);
	}
	FT_Done_Face(face);
	free(checks);
	return status;
}

/* The engine of the process (and of a zygote's children), made once before the line. */
static bool prepare_font(void **ctx)
{
	static struct sx_font_engine engine;
	if (!engine_init(&engine))
		return false;
	font_shape_warm_up();
	*ctx = &engine;
	return true;
}

static const char summary[] =
    "Reads a TrueType or OpenType font (TrueType, CFF or CFF2 outlines, variable fonts at\n"
    "their default instance, colour fonts: COLR/CPAL, CBDT, sbix; bitmap-only fonts), a\n"
    "collection (--face N picks the face) or a WOFF/WOFF2 web font, through FreeType with\n"
    "only its sfnt, TrueType and CFF drivers. The format comes from the file's signature\n"
    "only; every font is first validated as browsers validate web fonts (table directory,\n"
    "required tables, loca, hmtx, WOFF sizes), a defect answered bad input naming the\n"
    "table. --probe returns names, face and glyph counts, units per em, outline type,\n"
    "fixed pitch, colour, named instances, which of 28 scripts the cmap covers and what\n"
    "was validated. --thumbnail and --full return a preview: the family name and a sample\n"
    "of the first covered script (or --text, at --font-size), shaped by HarfBuzz,\n"
    "antialiased, dark on transparent (--rgba) or on white (--rgb), fitted into the box\n"
    "(--full: 1024x512).";

const struct sx_family sx_font_family = {
    .name = "sx-font",
    .summary = summary,
    .prepare = prepare_font,
    .prepare_failure = "cannot initialise FreeType",
    .extract = extract_font,
    /* Hinted TrueType, CFF, unhinted WOFF through the autohinter, WOFF2: every module
     * and decompressor the engine keeps, through every mode and layout. */
    .samples = &warm_fonts,
    .modes = SX_FAMILY_ALL_MODES,
    .warm_box_w = 96,
    .warm_box_h = 40,
};
