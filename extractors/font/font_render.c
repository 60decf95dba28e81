/* font_render.c: the sx-font preview: a sample laid out on at most two lines, rendered
 * with FreeType's hinting and antialiasing, cropped to its ink, fitted into the box.
 *
 * The pixel size is chosen from unhinted advances in font units, before any glyph is
 * loaded, so each glyph is hinted and rendered exactly once: the bytecode of a hostile
 * font runs no more often than it must. Every glyph bitmap is copied out of FreeType's
 * slot and freed before returning; the hinting of a face that fails once is not tried
 * again for its other glyphs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "font_internal.h"

#include FT_ADVANCES_H
#include FT_FONT_FORMATS_H
#include FT_OUTLINE_H
#include FT_TRUETYPE_TABLES_H
#include FT_TRUETYPE_TAGS_H
#include "sx_scale.h"
#include "sx_size.h"
#include "sx_utf8.h"

#define MAX_LINES 2
#define INK 0x00 /* the sample's colour: black, on transparent (RGBA) or on white (RGB) */

struct text {
	struct glyph_ref refs[SX_FONT_MAX_GLYPHS];
	unsigned count;
	unsigned line_end[MAX_LINES]; /* refs[line_end[i-1] .. line_end[i]) is line i */
	unsigned lines;
};

/* One rendered glyph, copied out of FreeType's slot. */
struct placed {
	int32_t left, top; /* top-left of the bitmap in pixels, y down */
	uint32_t width, rows;
	int color;	 /* pixels: premultiplied RGBA (colour glyphs), else coverage */
	uint8_t *pixels; /* width * rows bytes, or width * rows * 4 */
};

/* All a preview holds until it returns, in the caller's frame. */
struct preview_job {
	struct text text;
	struct placed glyphs[SX_FONT_MAX_GLYPHS];
	unsigned placed;
	uint8_t *canvas;
	struct font_shaper shaper;
	int hinting; /* cleared once a hinted load fails: the rest render unhinted */
	int strike;  /* a bitmap strike is selected: glyphs come as bitmaps */
	int color;   /* the face has colour glyphs (COLR/CPAL, CBDT, sbix): FT_LOAD_COLOR */
};

/* Next code point of trusted or FreeType-made UTF-8; a byte that does not start a
 * well-formed sequence is skipped (code point 0). Returns the bytes consumed (0 at the
 * end). */
static size_t next_code_point(const char *s, size_t len, uint32_t *cp)
{
	if (len == 0)
		return 0;
	size_t n = sx_utf8_decode((const uint8_t *)s, len, cp);
	return n ? n : 1;
}

static void end_line(struct text *t)
{
	unsigned start = t->lines ? t->line_end[t->lines - 1] : 0;
	/* A line of gaps alone shows nothing: drop it. */
	int any = 0;
	for (unsigned i = start; i < t->count; i++)
		any |= !t->refs[i].gap;
	if (!any) {
		t->count = start;
		return;
	}
	t->line_end[t->lines++] = t->count;
}

static void add_ref(struct text *t, FT_UInt index, int gap, int32_t advance)
{
	if (t->count < SX_FONT_MAX_GLYPHS)
		t->refs[t->count++] = (struct glyph_ref){index, gap, advance, 0, 0};
}

/* Shapes the characters of `s` the face maps to a glyph (at most `max` of them) as one
 * line, through HarfBuzz (joining, reordering, marks, right to left). With `whole`, the
 * line is shown only if the face maps every character (a name with holes would not be
 * the name). */
static void add_text_line(struct text *t, struct font_shaper *shaper, FT_Face face, const char *s,
			  unsigned max, int whole)
{
	if (t->lines >= MAX_LINES)
		return;
	char kept[SX_FONT_MAX_GLYPHS * 4 + 1];
	size_t k = 0, len = strlen(s);
	unsigned chars = 0;
	uint32_t cp;
	for (size_t n; (n = next_code_point(s, len, &cp)) > 0 && chars < max && k + n < sizeof kept;
	     s += n, len -= n) {
		/* Spaces and the joiners stay even without a glyph (a gap; a shaping hint). */
		if (cp == ' ' || cp == 0x200C || cp == 0x200D ||
		    (cp >= 0x20 && FT_Get_Char_Index(face, cp) != 0)) {
			memcpy(kept + k, s, n);
			k += n;
			chars++;
		} else if (whole) {
			return;
		}
	}
	unsigned start = t->count, missing;
	unsigned room = SX_FONT_MAX_GLYPHS - t->count;
	unsigned n =
	    font_shape(shaper, kept, k, t->refs + t->count, room < max ? room : max, &missing);
	for (unsigned i = start; i < start + n; i++)
		if (t->refs[i].gap)
			t->refs[i].x_advance = (int32_t)(shaper->upem / 3);
	t->count += n;
	end_line(t);
}

/* The unhinted advance of a glyph in font units, held to [0, the largest glyph drawn]:
 * hostile metrics count for neither less than nothing nor a page. */
static int32_t glyph_advance(FT_Face face, FT_UInt g)
{
	long upem = face->units_per_EM > 0 ? face->units_per_EM : 1000;
	FT_Fixed adv = upem / 2;
	if (FT_Get_Advance(face, g, FT_LOAD_NO_SCALE, &adv) != 0)
		adv = upem / 2;
	if (adv < 0)
		adv = 0;
	if (adv > (FT_Fixed)SX_FONT_MAX_GLYPH_EMS * upem)
		adv = (FT_Fixed)SX_FONT_MAX_GLYPH_EMS * upem;
	return (int32_t)adv;
}

/* For a face that covers none of the known scripts: what its charmap maps (any charmap,
 * symbol fonts included), or else its first glyphs by index. */
static void add_fallback_line(struct text *t, FT_Face face, unsigned max)
{
	unsigned start = t->count;
	if (!face->charmap && face->num_charmaps > 0)
		FT_Set_Charmap(face, face->charmaps[0]);
	if (face->charmap) {
		FT_UInt g;
		FT_ULong c = FT_Get_First_Char(face, &g);
		for (unsigned steps = 0;
		     g != 0 && steps < SX_FONT_MAX_CHARMAP_STEPS && t->count - start < max;
		     steps++) {
			if (c > 0x20 && !(c >= 0x7F && c < 0xA0))
				add_ref(t, g, 0, glyph_advance(face, g));
			c = FT_Get_Next_Char(face, c, &g);
		}
	}
	if (t->count == start)
		for (FT_Long g = 1; g < face->num_glyphs && g <= (FT_Long)max; g++)
			add_ref(t, (FT_UInt)g, 0, glyph_advance(face, (FT_UInt)g));
	end_line(t);
}

static void choose_text(struct text *t, struct font_shaper *shaper, FT_Face face)
{
	if (face->family_name)
		add_text_line(t, shaper, face, face->family_name, SX_FONT_MAX_NAME_GLYPHS, 1);
	unsigned room = SX_FONT_MAX_GLYPHS - t->count;
	for (size_t i = 0; i < font_script_count; i++) {
		if (font_covers(face, &font_scripts[i])) {
			add_text_line(t, shaper, face, font_scripts[i].sample, room, 0);
			return;
		}
	}
	add_fallback_line(t, face, room < 40 ? room : 40);
}

/* The box the preview is fitted into, held under the request's pixel cap. */
static void preview_box(const struct sx_request *req, uint32_t *w, uint32_t *h)
{
	*w = req->mode == SX_MODE_THUMBNAIL ? req->box_w : SX_FONT_FULL_WIDTH;
	*h = req->mode == SX_MODE_THUMBNAIL ? req->box_h : SX_FONT_FULL_HEIGHT;
	uint64_t cap = req->max_pixels < SX_FONT_MAX_CANVAS_PIXELS ? req->max_pixels
								   : SX_FONT_MAX_CANVAS_PIXELS;
	uint64_t area = (uint64_t)*w * *h;
	if (cap > 0 && area > cap) {
		double s = sqrt((double)cap / (double)area);
		*w = *w * s >= 1 ? (uint32_t)(*w * s) : 1;
		*h = *h * s >= 1 ? (uint32_t)(*h * s) : 1;
	}
}

/* The em size in pixels at which the text, by its unhinted advances, would fill 7/8 of
 * the box in its limiting direction, plus 15%: hinting and the crop to the ink make the
 * render smaller than the estimate, and the render is scaled down to fit the box exactly
 * rather than left short of it. */
static unsigned choose_pixel_size(FT_Face face, const struct text *t, uint32_t box_w,
				  uint32_t box_h, double line_ratio)
{
	long upem = face->units_per_EM > 0 ? face->units_per_EM : 1000;
	long widest = 0;
	for (unsigned l = 0, i = 0; l < t->lines; l++) {
		long width = 0;
		for (; i < t->line_end[l]; i++) {
			/* Hostile metrics (GPOS too): no glyph counts for less than nothing or
			 * more than the largest glyph we agree to draw. */
			long adv = t->refs[i].x_advance;
			if (adv < 0)
				adv = 0;
			if (adv > (long)SX_FONT_MAX_GLYPH_EMS * upem)
				adv = (long)SX_FONT_MAX_GLYPH_EMS * upem;
			width += adv;
		}
		if (width > widest)
			widest = width;
	}
	if (widest <= 0)
		widest = upem;
	double by_width = box_w * 7.0 / 8.0 * (double)upem / (double)widest;
	double by_height = box_h * 7.0 / 8.0 / (t->lines * line_ratio);
	double px = ceil((by_width < by_height ? by_width : by_height) * 1.15);
	if (px < SX_FONT_MIN_PIXEL_SIZE)
		return SX_FONT_MIN_PIXEL_SIZE;
	if (px > SX_FONT_MAX_PIXEL_SIZE)
		return SX_FONT_MAX_PIXEL_SIZE;
	return (unsigned)px;
}

/* Loads a glyph: from the selected strike (colour or not), or hinted outlines (the
 * font's bytecode for TrueType, FreeType's CFF hinter, the autohinter for unhinted fonts)
 * unless hinting failed before, falling back to no hinting; COLR layers with
 * FT_LOAD_COLOR. Embedded bitmaps of outline fonts are not used. */
static FT_Error load_glyph(struct preview_job *job, FT_Face face, FT_UInt index)
{
	FT_Int32 color = job->color ? FT_LOAD_COLOR : 0;
	if (job->strike)
		return FT_Load_Glyph(face, index, FT_LOAD_DEFAULT | color);
	if (job->hinting) {
		FT_Error err =
		    FT_Load_Glyph(face, index, FT_LOAD_DEFAULT | FT_LOAD_NO_BITMAP | color);
		if (err == 0)
			return 0;
		if (err == FT_Err_Out_Of_Memory)
			return err;
		job->hinting = 0;
	}
	return FT_Load_Glyph(face, index, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP | color);
}

/* Copies the slot's bitmap (mono, gray or BGRA) into p. Returns false only when out of
 * memory; an unknown pixel mode leaves p->pixels NULL. */
static bool copy_bitmap(const FT_Bitmap *bm, struct placed *p)
{
	p->pixels = NULL;
	p->color = bm->pixel_mode == FT_PIXEL_MODE_BGRA;
	if (bm->pixel_mode != FT_PIXEL_MODE_GRAY && bm->pixel_mode != FT_PIXEL_MODE_MONO &&
	    !p->color)
		return true;
	size_t bytes;
	if (!sx_mul3_size(bm->width, bm->rows, p->color ? 4 : 1, &bytes) ||
	    !(p->pixels = malloc(bytes)))
		return false;
	unsigned pitch = (unsigned)(bm->pitch < 0 ? -bm->pitch : bm->pitch);
	for (unsigned y = 0; y < bm->rows; y++) {
		const uint8_t *row = bm->pitch < 0 ? bm->buffer + (size_t)(bm->rows - 1 - y) * pitch
						   : bm->buffer + (size_t)y * pitch;
		uint8_t *dst = p->pixels + (size_t)y * bm->width * (p->color ? 4 : 1);
		for (unsigned x = 0; x < bm->width; x++) {
			if (bm->pixel_mode == FT_PIXEL_MODE_MONO) {
				dst[x] = (row[x / 8] >> (7 - x % 8)) & 1 ? 255 : 0;
			} else if (!p->color) {
				dst[x] = row[x];
			} else { /* premultiplied BGRA to premultiplied RGBA */
				dst[4 * x] = row[4 * x + 2];
				dst[4 * x + 1] = row[4 * x + 1];
				dst[4 * x + 2] = row[4 * x];
				dst[4 * x + 3] = row[4 * x + 3];
			}
		}
	}
	return true;
}

/* Renders the glyph at (x in 26.6, baseline y in pixels) and keeps a copy of its
 * pixels. */
static void place_glyph(struct preview_job *job, FT_Face face, FT_UInt index, FT_Pos x, int32_t y,
			unsigned px, enum sx_status *status)
{
	FT_Error err = load_glyph(job, face, index);
	if (err == FT_Err_Out_Of_Memory)
		*status = SX_ERR_NO_MEMORY;
	if (err)
		return;
	FT_GlyphSlot slot = face->glyph;
	FT_Pos max_side = (FT_Pos)SX_FONT_MAX_GLYPH_EMS * px * 64;
	if (slot->format == FT_GLYPH_FORMAT_OUTLINE) {
		if (slot->outline.n_points == 0)
			return;
		FT_BBox box;
		FT_Outline_Get_CBox(&slot->outline, &box);
		/* Checked before rendering: the renderer would allocate the whole bitmap. */
		if (box.xMax - box.xMin > max_side || box.yMax - box.yMin > max_side)
			return;
		if (FT_Render_Glyph(slot, FT_RENDER_MODE_NORMAL) != 0)
			return;
	} else if (slot->format != FT_GLYPH_FORMAT_BITMAP) {
		return;
	}
	const FT_Bitmap *bm = &slot->bitmap;
	if (bm->width == 0 || bm->rows == 0 || job->placed >= SX_FONT_MAX_GLYPHS ||
	    (FT_Pos)bm->width * 64 > max_side || (FT_Pos)bm->rows * 64 > max_side)
		return;
	struct placed *p = &job->glyphs[job->placed];
	if (!copy_bitmap(bm, p)) {
		*status = SX_ERR_NO_MEMORY;
		return;
	}
	if (!p->pixels)
		return;
	p->left = (int32_t)((x + 32) >> 6) + slot->bitmap_left;
	p->top = y - slot->bitmap_top;
	p->width = bm->width;
	p->rows = bm->rows;
	job->placed++;
}

/* A HarfBuzz position (font units) held to the glyph bound, in 26.6 pixels at px. */
static FT_Pos to_pixels(int32_t units, unsigned upem, unsigned px)
{
	int64_t bound = (int64_t)SX_FONT_MAX_GLYPH_EMS * upem;
	int64_t u = units < -bound ? -bound : units > bound ? bound : units;
	return (FT_Pos)(u * (int64_t)px * 64 / (int64_t)upem);
}

static enum sx_status render_text(struct preview_job *job, FT_Face face, unsigned px,
				  double line_ratio, struct sx_result *result)
{
	enum sx_status status = SX_OK;
	unsigned upem = job->shaper.upem;
	int32_t line_height = (int32_t)ceil(px * line_ratio);
	for (unsigned l = 0, i = 0; l < job->text.lines && status == SX_OK; l++) {
		FT_Pos pen_x = 0;
		for (; i < job->text.line_end[l] && status == SX_OK; i++) {
			const struct glyph_ref *r = &job->text.refs[i];
			if (!r->gap) {
				FT_Pos x = pen_x + to_pixels(r->x_offset, upem, px);
				int32_t y = (int32_t)l * line_height -
					    (int32_t)(to_pixels(r->y_offset, upem, px) / 64);
				place_glyph(job, face, r->index, x, y, px, &status);
			}
			FT_Pos adv = to_pixels(r->x_advance, upem, px);
			pen_x += adv > 0 ? adv : 0;
		}
	}
	if (status != SX_OK)
		return sx_fail(result, status, "out of memory while rendering glyphs");
	return SX_OK;
}

static int has_ink(const struct preview_job *job)
{
	for (unsigned i = 0; i < job->placed; i++) {
		const struct placed *p = &job->glyphs[i];
		size_t n = (size_t)p->width * p->rows, step = p->color ? 4 : 1;
		for (size_t k = 0; k < n; k++)
			if (p->pixels[k * step + (step - 1)] != 0)
				return 1;
	}
	return 0;
}

/* Nothing drawn. A blank font (every glyph empty) is a font with nothing to show, unless
 * the tables its outlines live in are gone: FreeType drops a table that runs past the end
 * of the file and then loads every glyph as empty, so a truncated or corrupt TrueType
 * font would look blank. (A CFF face without its CFF table does not open at all.) */
static enum sx_status no_ink_failure(FT_Face face, struct sx_result *result)
{
	static const struct {
		FT_ULong tag;
		const char *name;
	} outline_tables[] = {{TTAG_loca, "loca"}, {TTAG_glyf, "glyf"}};
	const char *format = FT_Get_Font_Format(face);
	if (format && strcmp(format, "TrueType") == 0) {
		for (size_t i = 0; i < sizeof outline_tables / sizeof outline_tables[0]; i++) {
			FT_ULong length = 0;
			if (FT_Load_Sfnt_Table(face, outline_tables[i].tag, 0, NULL, &length) !=
				0 ||
			    length == 0)
				return sx_fail(
				    result, SX_ERR_BAD_INPUT,
				    "the %s table is missing or runs past the end of the "
				    "file: no outline can be read",
				    outline_tables[i].name);
		}
	}
	return sx_fail(result, SX_ERR_UNSUPPORTED, "font has no renderable glyphs");
}

/* Draws the placed glyphs (some with ink), cropped to their ink with a margin, as RGBA. */
static enum sx_status compose(struct preview_job *job, unsigned px, uint32_t *out_w,
			      uint32_t *out_h, struct sx_result *result)
{
	int64_t x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN, y1 = INT64_MIN;
	for (unsigned i = 0; i < job->placed; i++) {
		const struct placed *p = &job->glyphs[i];
		x0 = p->left < x0 ? p->left : x0;
		y0 = p->top < y0 ? p->top : y0;
		x1 = p->left + (int64_t)p->width > x1 ? p->left + (int64_t)p->width : x1;
		y1 = p->top + (int64_t)p->rows > y1 ? p->top + (int64_t)p->rows : y1;
	}
	int64_t margin = px / 4 > 2 ? px / 4 : 2;
	int64_t w = x1 - x0 + 2 * margin, h = y1 - y0 + 2 * margin;
	size_t bytes;
	if (w > UINT32_MAX || h > UINT32_MAX ||
	    (uint64_t)w * (uint64_t)h > SX_FONT_MAX_CANVAS_PIXELS ||
	    !sx_mul3_size((size_t)w, (size_t)h, 4, &bytes))
		return sx_fail(result, SX_ERR_LIMIT, "the sample would cover %lldx%lld pixels",
			       (long long)w, (long long)h);
	job->canvas = calloc(bytes, 1);
	if (!job->canvas)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %lldx%lld preview",
			       (long long)w, (long long)h);
	for (unsigned i = 0; i < job->placed; i++) {
		const struct placed *p = &job->glyphs[i];
		size_t ox = (size_t)(p->left - x0 + margin), oy = (size_t)(p->top - y0 + margin);
		for (uint32_t y = 0; y < p->rows; y++) {
			uint8_t *dst = job->canvas + ((oy + y) * (size_t)w + ox) * 4;
			for (uint32_t x = 0; x < p->width; x++, dst += 4) {
				/* Premultiplied "over": coverage is black ink of that alpha;
				 * overlapping glyphs (kerned, marks, italic) add up as coverage
				 * does. */
				uint8_t src[4] = {INK, INK, INK, 0};
				if (p->color)
					memcpy(src, p->pixels + ((size_t)y * p->width + x) * 4, 4);
				else
					src[3] = p->pixels[(size_t)y * p->width + x];
				if (src[3] == 0)
					continue;
				for (int c = 0; c < 4; c++)
					dst[c] = (uint8_t)(src[c] +
							   (dst[c] * (255u - src[3]) + 127) / 255);
			}
		}
	}
	/* Back to straight alpha, as the rest of the pipeline expects (black ink is the
	 * same either way: only colour glyphs need it). */
	int any_color = 0;
	for (unsigned i = 0; i < job->placed; i++)
		any_color |= job->glyphs[i].color;
	for (size_t i = 0; any_color && i < (size_t)w * (size_t)h; i++) {
		uint8_t *d = job->canvas + i * 4;
		if (d[3] != 0 && d[3] != 255)
			for (int c = 0; c < 3; c++) {
				unsigned v = (d[c] * 255u + d[3] / 2) / d[3];
				d[c] = (uint8_t)(v > 255 ? 255 : v);
			}
	}
	*out_w = (uint32_t)w;
	*out_h = (uint32_t)h;
	return SX_OK;
}

/* RGBA composited over white in place: opaque, so dropping alpha leaves it on white. */
static void composite_on_white(uint8_t *pixels, uint32_t w, uint32_t h)
{
	size_t n = (size_t)w * h;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = pixels + i * 4;
		unsigned a = p[3];
		for (int c = 0; c < 3; c++)
			p[c] = (uint8_t)((p[c] * a + 255 * (255 - a) + 127) / 255);
		p[3] = 255;
	}
}

static void release(struct preview_job *job)
{
	for (unsigned i = 0; i < job->placed; i++)
		free(job->glyphs[i].pixels);
	free(job->canvas);
	font_shaper_close(&job->shaper);
}

static enum sx_status run_preview(struct preview_job *job, const struct sx_request *req,
				  FT_Face face, struct sx_result *result)
{
	uint32_t box_w, box_h;
	preview_box(req, &box_w, &box_h);
	if (!font_shaper_open(&job->shaper, face))
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for HarfBuzz");
	job->color = FT_HAS_COLOR(face);
	/* Bitmap-only faces, and colour bitmaps (CBDT, sbix) even beside outlines, are drawn
	 * from their nearest strike; everything else from outlines. */
	job->strike = FT_HAS_FIXED_SIZES(face) && face->num_fixed_sizes > 0 &&
		      (!FT_IS_SCALABLE(face) || job->color);
	if (!FT_IS_SCALABLE(face) && !job->strike)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "no outlines and no bitmap strike");
	if (req->text[0]) {
		/* The request's text alone, shaped, without the characters the face lacks. */
		add_text_line(&job->text, &job->shaper, face, req->text, SX_FONT_MAX_GLYPHS, 0);
		if (job->text.lines == 0)
			return sx_fail(result, SX_ERR_UNSUPPORTED,
				       "the font has no glyph for the requested text");
	} else {
		choose_text(&job->text, &job->shaper, face);
	}
	if (job->text.lines == 0)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "font has no renderable glyphs");
	long upem = face->units_per_EM > 0 ? face->units_per_EM : 1000;
	double line_ratio = (double)(face->ascender - face->descender) / (double)upem;
	line_ratio = line_ratio < 1.0 ? 1.0 : line_ratio > 2.0 ? 2.0 : line_ratio;
	/* --font-size: that em size, the render still fitted into the box (never enlarged). */
	unsigned px = req->font_size
			  ? req->font_size
			  : choose_pixel_size(face, &job->text, box_w, box_h, line_ratio);
	FT_Error err;
	if (job->strike) {
		int best = 0;
		for (int i = 1; i < face->num_fixed_sizes; i++) {
			long d = labs(face->available_sizes[i].y_ppem / 64 - (long)px);
			if (d < labs(face->available_sizes[best].y_ppem / 64 - (long)px))
				best = i;
		}
		long ppem = face->available_sizes[best].y_ppem / 64;
		err = FT_Select_Size(face, best);
		px = ppem < 1				       ? 1
		     : ppem > 4 * (long)SX_FONT_MAX_PIXEL_SIZE ? 4 * SX_FONT_MAX_PIXEL_SIZE
							       : (unsigned)ppem;
	} else {
		err = FT_Set_Pixel_Sizes(face, 0, px);
	}
	if (err)
		return font_fail(result, err, "cannot scale the font");

	enum sx_status status = render_text(job, face, px, line_ratio, result);
	if (status == SX_OK && !has_ink(job))
		status = no_ink_failure(face, result);
	uint32_t w = 0, h = 0;
	if (status == SX_OK)
		status = compose(job, px, &w, &h, result);
	if (status != SX_OK)
		return status;
	uint32_t tw, th;
	sx_fit_box(w, h, box_w, box_h, &tw, &th);
	if (tw != w || th != h) {
		uint8_t *scaled = sx_downscale_rgba(job->canvas, w, h, tw, th);
		if (!scaled)
			return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to scale to %ux%u", tw,
				       th);
		free(job->canvas);
		job->canvas = scaled;
		w = tw;
		h = th;
	}
	if (req->channels == 3)
		composite_on_white(job->canvas, w, h);
	uint8_t *pixels = job->canvas;
	job->canvas = NULL;
	return sx_finish_rgba(req, pixels, w, h, 1, result);
}

enum sx_status font_render_preview(const struct sx_request *req, FT_Face face,
				   struct sx_result *result)
{
	struct preview_job *job = calloc(1, sizeof *job);
	if (!job)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a preview");
	job->hinting = 1;
	enum sx_status status = run_preview(job, req, face, result);
	release(job);
	free(job);
	return status;
}
