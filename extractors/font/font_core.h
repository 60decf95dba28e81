/* font_core.h: the sx-font family (TrueType, OpenType with TrueType, CFF or CFF2 outlines,
 * variable fonts at their default instance, TrueType/OpenType collections, WOFF and
 * WOFF2, colour fonts (COLR v0/CPAL, CBDT/CBLC, sbix) and bitmap-only fonts, through
 * FreeType, shaped by HarfBuzz).
 *
 * sx_font_family (sx_family.h) is the descriptor main(), the fork server and the fuzz
 * harness take. Its warm context is one FT_Library over malloc (the pool in the
 * extractor), made before the line, holding only the modules sx-font needs: sfnt (with
 * WOFF and WOFF2), truetype, cff with psaux, psnames and pshinter, the autofitter and the
 * smooth renderer; prepare also reaches HarfBuzz's lazy statics. Every other driver
 * (Type 1, CID, Type 42, PFR, PCF, BDF, Windows FNT) and renderer (mono, SVG, SDF) is
 * removed, and the input must start with an sfnt, collection, WOFF or WOFF2 signature
 * before FreeType sees it. A failure to set it up is answered SX_ERR_INTERNAL "cannot
 * initialise FreeType".
 *
 * The decode core has the shared contract of sx_extract.h plus the engine: it touches
 * only its arguments, makes no syscalls, opens faces from memory and frees them before
 * returning. Every request first passes the structural validation of font_validate.c
 * (after the line, before any verdict). Probe answers metadata (PROTOCOL.md); thumbnail
 * and full answer a rendered sample (the family name and the sample of the first covered
 * script, or the request's --text, at --font-size), shaped, dark on transparent (RGBA) or
 * on white (RGB), colour glyphs in colour. Errors: SX_ERR_UNSUPPORTED for what is not a
 * font sx-font reads and for a font with no glyph that renders anything (or none for the
 * requested text); SX_ERR_BAD_INPUT for a structural defect ("<table>: <reason>") and for
 * what FreeType rejects; SX_ERR_BAD_REQUEST for a face index past the last face;
 * SX_ERR_NO_MEMORY and SX_ERR_LIMIT as usual.
 *
 * The warm-up opens and renders built-in fonts (warm_fonts.c: hinted TrueType, CFF,
 * unhinted WOFF through the autohinter, WOFF2, Arabic and Devanagari with GSUB/GPOS)
 * through every mode, so every lazy initialisation of FreeType, zlib, Brotli and
 * HarfBuzz's shapers is done before the line.
 */
#ifndef FONT_CORE_H
#define FONT_CORE_H

#include "sx_family.h"

extern const struct sx_family sx_font_family;

#endif
