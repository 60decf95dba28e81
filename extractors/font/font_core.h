/* font_core.h: the decode core of sx-font (TrueType, OpenType with TrueType or CFF
 * outlines, TrueType/OpenType collections, WOFF and WOFF2, through FreeType) and its
 * warm-up.
 *
 * FreeType is used through a struct sx_font_engine: one FT_Library over malloc (the pool
 * in the extractor) holding only the modules sx-font needs: sfnt (with WOFF and WOFF2),
 * truetype, cff with psaux, psnames and pshinter, the autofitter and the smooth
 * renderer. Every other driver (Type 1, CID, Type 42, PFR, PCF, BDF, Windows FNT) and
 * renderer (mono, SVG, SDF) is removed, and the input must start with an sfnt, collection,
 * WOFF or WOFF2 signature before FreeType sees it.
 *
 * Phases and contracts:
 * - sx_font_engine_init() and sx_font_warm_up() run before the strict line in the
 *   extractor (the library and its modules are made there). false means FreeType could
 *   not be set up. sx_font_engine_done() frees the library.
 * - sx_font_extract_with() is the decode core with the shared contract of sx_extract.h
 *   plus the engine: it touches only its arguments, makes no syscalls, opens faces from
 *   memory and frees them before returning. Probe answers metadata (PROTOCOL.md);
 *   thumbnail and full answer a rendered sample (the family name and a pangram, or a
 *   sample of the script the font covers), dark on transparent (RGBA) or on white (RGB).
 *   Errors: SX_ERR_UNSUPPORTED for what is not a font sx-font reads, for bitmap-only faces
 *   in preview modes and for a font with no glyph that renders anything; SX_ERR_BAD_INPUT
 *   for what FreeType rejects; SX_ERR_BAD_REQUEST for a face index past the last face;
 *   SX_ERR_NO_MEMORY and SX_ERR_LIMIT as usual.
 * - sx_font_extract() is the plain sx_extract_fn (fuzz harnesses, tests): it makes an
 *   engine for the one call and frees it.
 * - sx_font_warm_up() (before the line) makes the process's engine, then opens and
 *   renders built-in fonts (hinted TrueType, CFF, unhinted WOFF through the autohinter,
 *   WOFF2) through every mode, so every lazy initialisation is done before the line. Only
 *   the first call does work: a fork-server child, forked from a warm zygote, inherits
 *   the engine. sx_font_warm_engine() returns that engine, or NULL when FreeType could not
 *   be set up (or before the warm-up).
 */
#ifndef FONT_CORE_H
#define FONT_CORE_H

#include <stdbool.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_SYSTEM_H

#include "sx_extract.h"

struct sx_font_engine {
	FT_Library library;
	struct FT_MemoryRec_ memory; /* must outlive the library */
};

bool sx_font_engine_init(struct sx_font_engine *engine);
void sx_font_engine_done(struct sx_font_engine *engine);

enum sx_status sx_font_extract_with(struct sx_font_engine *engine, const struct sx_request *req,
				    const uint8_t *data, size_t size, struct sx_result *result);
enum sx_status sx_font_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			       struct sx_result *result);

void sx_font_warm_up(void);
struct sx_font_engine *sx_font_warm_engine(void);

#endif
