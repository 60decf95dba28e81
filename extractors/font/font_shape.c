/* font_shape.c: text shaped by HarfBuzz for the preview (joining, reordering, marks,
 * kerning: Arabic and Indic as they will render); a leaf that font_render.c calls.
 *
 * HarfBuzz reads the face's tables through FreeType (hb_ft_face_create_referenced, so
 * WOFF and WOFF2 work as TrueType does) but shapes with its own OpenType code
 * (hb_font_create: hb-ot's font functions, not FreeType's). Only the "ot" and "fallback"
 * shapers are allowed: Graphite (a font's Silf table) is never reached. Every allocation
 * is malloc's (the pool); HarfBuzz's lazy statics (default language, Unicode functions,
 * shaper list, hb-ot's font functions, each complex shaper's data) are reached before the
 * line by font_shape_warm_up and by the warm-up's Arabic and Devanagari samples.
 */
#include <string.h>

#include <hb-ft.h>
#include <hb-ot.h>
#include <hb.h>

#include "font_internal.h"

static const char *const shapers[] = {"ot", "fallback", NULL};

void font_shape_warm_up(void)
{
	(void)hb_language_get_default();
	(void)hb_unicode_funcs_get_default();
	(void)hb_shape_list_shapers();
	hb_buffer_t *b = hb_buffer_create();
	hb_buffer_destroy(b);
}

bool font_shaper_open(struct font_shaper *s, FT_Face face)
{
	s->face = hb_ft_face_create_referenced(face);
	s->font = hb_font_create(s->face);
	s->upem = face->units_per_EM > 0 ? face->units_per_EM : 1000;
	hb_font_set_scale(s->font, (int)s->upem, (int)s->upem);
	return hb_font_get_empty() != s->font;
}

void font_shaper_close(struct font_shaper *s)
{
	hb_font_destroy(s->font);
	hb_face_destroy(s->face);
	s->font = NULL;
	s->face = NULL;
}

unsigned font_shape(struct font_shaper *s, const char *utf8, size_t len, struct glyph_ref *out,
		    unsigned max, unsigned *missing)
{
	*missing = 0;
	hb_buffer_t *b = hb_buffer_create();
	hb_buffer_add_utf8(b, utf8, (int)len, 0, (int)len);
	/* Script and direction from the text itself; the language stays the default
	 * ("c"), warmed before the line. */
	hb_buffer_guess_segment_properties(b);
	unsigned n = 0;
	if (hb_shape_full(s->font, b, NULL, 0, shapers)) {
		unsigned count;
		hb_glyph_info_t *info = hb_buffer_get_glyph_infos(b, &count);
		hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(b, &count);
		for (unsigned i = 0; i < count && n < max; i++, n++) {
			out[n] =
			    (struct glyph_ref){info[i].codepoint, info[i].codepoint == 0,
					       pos[i].x_advance, pos[i].x_offset, pos[i].y_offset};
			*missing += info[i].codepoint == 0;
		}
	}
	hb_buffer_destroy(b);
	return n;
}
