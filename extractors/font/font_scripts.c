/* font_scripts.c: the scripts sx-font reports coverage for and previews, and the coverage
 * test; a leaf that the probe (font_core.c) and the renderer (font_render.c) both use. */
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

bool font_covers(FT_Face face, const struct font_script *script)
{
	if (!face->charmap || face->charmap->encoding != FT_ENCODING_UNICODE)
		return false;
	for (size_t i = 0; i < sizeof script->probe / sizeof script->probe[0]; i++)
		if (FT_Get_Char_Index(face, script->probe[i]) == 0)
			return false;
	return true;
}
