/* font_internal.h: what the parts of sx-font share (not exported beyond it).
 *
 * Phase: decode-core code: no syscalls, memory through malloc.
 */
#ifndef FONT_INTERNAL_H
#define FONT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "font_limits.h"
#include "sx_extract.h"

/* A script sx-font reports coverage for, and the sample it shows for it. */
struct font_script {
	const char *key;     /* metadata key, "covers_<script>" */
	uint32_t probe[4];   /* code points that must all map to a glyph */
	const char *sample;  /* UTF-8, in logical order */
	bool right_to_left;  /* shown reversed (no shaping: isolated forms) */
};

/* Latin, Greek, Cyrillic, CJK, Arabic, in that order of preference for the preview. */
extern const struct font_script font_scripts[];
extern const size_t font_script_count;

/* True when the face's selected (Unicode) charmap maps every probe code point. */
bool font_covers(FT_Face face, const struct font_script *script);

/* Sets result->detail from a FreeType error and returns the matching status. */
enum sx_status font_fail(struct sx_result *result, FT_Error err, const char *what);

/* Renders the preview of an open face for req (thumbnail or full) into result->image. */
enum sx_status font_render_preview(const struct sx_request *req, FT_Face face,
				   struct sx_result *result);

#endif
