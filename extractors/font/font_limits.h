/* font_limits.h: the caps and sizes sx-font uses on top of common/sx_limits.h.
 *
 * Phase: any. Compile-time constants only. Kept here until they move into sx_limits.h
 * (common/ is shared; its owner decides). Nothing read from the input can raise them.
 */
#ifndef FONT_LIMITS_H
#define FONT_LIMITS_H

#include <stdint.h>

/* The box a --full preview is fitted into (then held under the request's max_pixels). */
#define SX_FONT_FULL_WIDTH 1024u
#define SX_FONT_FULL_HEIGHT 512u

/* Pixel sizes (em) the sample is rendered at. Below the minimum the render is made at the
 * minimum and scaled down; above the maximum the preview comes out smaller than its box
 * (never enlarged), so no glyph bitmap is larger than a few hundred pixels a side. */
#define SX_FONT_MIN_PIXEL_SIZE 6u
#define SX_FONT_MAX_PIXEL_SIZE 200u

/* Glyphs loaded and rendered for one preview, and of them the family-name line. */
#define SX_FONT_MAX_GLYPHS 128u
#define SX_FONT_MAX_NAME_GLYPHS 40u

/* A glyph whose outline box is wider or taller than this many ems is not rendered (a
 * hostile outline would otherwise make a huge bitmap); its advance still counts. */
#define SX_FONT_MAX_GLYPH_EMS 3u

/* The canvas the sample is drawn on before it is fitted into the box. */
#define SX_FONT_MAX_CANVAS_PIXELS ((uint64_t)16 << 20)

/* Faces of a collection opened to list their names in --probe. */
#define SX_FONT_MAX_LISTED_FACES 64u

/* Charmap entries walked to find something to show when no known script is covered. */
#define SX_FONT_MAX_CHARMAP_STEPS 512u

#endif
