/* font_scripts.c: the scripts sx-font reports coverage for and previews (a Unicode-block
 * table: the world's major scripts, symbols and emoji), and the coverage test; a leaf
 * that the probe (font_core.c) and the renderer (font_render.c) both use.
 *
 * A script is covered when the Unicode cmap maps all four probe code points: letters
 * (and for abugidas a vowel sign and the virama) a font for that script cannot lack. The
 * samples are in logical order; HarfBuzz shapes them (font_shape.c). The first five keep
 * their order and probes from before shaping (PROTOCOL.md: covers_* fields).
 */
#include "font_internal.h"

const struct font_script font_scripts[] = {
    {"covers_latin",
     {0x41, 0x5A, 0x61, 0x7A},
     "The quick brown fox jumps over the lazy dog 0123456789"},
    {"covers_greek", {0x391, 0x3A9, 0x3B1, 0x3C9}, "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία"},
    {"covers_cyrillic", {0x410, 0x42F, 0x430, 0x44F}, "Съешь же ещё этих мягких французских булок"},
    {"covers_cjk", {0x4E00, 0x4E2D, 0x5B57, 0x6587}, "天地玄黃宇宙洪荒日月盈昃辰宿列張"},
    {"covers_arabic",
     {0x627, 0x628, 0x644, 0x645},
     "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر"},
    {"covers_hebrew", {0x5D0, 0x5D1, 0x5E9, 0x5EA}, "דג סקרן שט בים מאוכזב ולפתע מצא חברה"},
    {"covers_devanagari",
     {0x915, 0x92E, 0x93F, 0x94D},
     "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है"},
    {"covers_bengali",
     {0x995, 0x9AE, 0x9BF, 0x9CD},
     "সমস্ত মানুষ স্বাধীনভাবে সমান মর্যাদা এবং অধিকার নিয়ে জন্মগ্রহণ করে"},
    {"covers_gurmukhi", {0xA15, 0xA2E, 0xA3F, 0xA4D}, "ਸਾਰੇ ਮਨੁੱਖ ਆਜ਼ਾਦ ਅਤੇ ਬਰਾਬਰ ਜਨਮੇ ਹਨ"},
    {"covers_gujarati", {0xA95, 0xAAE, 0xABF, 0xACD}, "બધા મનુષ્યો જન્મથી સ્વતંત્ર અને સમાન છે"},
    {"covers_tamil",
     {0xB95, 0xBAE, 0xBBF, 0xBCD},
     "மனிதப் பிறவியினர் சகலரும் சுதந்திரமாகவே பிறக்கின்றனர்"},
    {"covers_telugu", {0xC15, 0xC2E, 0xC3F, 0xC4D}, "మానవులందరూ స్వతంత్రులుగా జన్మించారు"},
    {"covers_kannada", {0xC95, 0xCAE, 0xCBF, 0xCCD}, "ಎಲ್ಲಾ ಮಾನವರೂ ಸ್ವತಂತ್ರರಾಗಿಯೇ ಜನಿಸಿದ್ದಾರೆ"},
    {"covers_malayalam", {0xD15, 0xD2E, 0xD3F, 0xD4D}, "മനുഷ്യരെല്ലാവരും തുല്യാവകാശങ്ങളോടും"},
    {"covers_sinhala",
     {0xD9A, 0xDB8, 0xDD2, 0xDCA},
     "සියලු මනුෂ්‍යයෝ නිදහස්ව උපත ලබති"},
    {"covers_thai", {0xE01, 0xE19, 0xE21, 0xE32}, "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า"},
    {"covers_lao", {0xE81, 0xE99, 0xEA1, 0xEB2}, "ມະນຸດທັງຫຼາຍເກີດມາມີກຽດ"},
    {"covers_tibetan", {0xF40, 0xF42, 0xF58, 0xF0B}, "འགྲོ་བ་མིའི་རིགས་ཡོངས་"},
    {"covers_myanmar", {0x1000, 0x101C, 0x1010, 0x102C}, "လူတိုင်းသည် တူညီ လွတ်လပ်သော"},
    {"covers_khmer", {0x1780, 0x1798, 0x17B6, 0x17D2}, "មនុស្សទាំងអស់ កើតមកមានសេរីភាព"},
    {"covers_georgian", {0x10D0, 0x10D1, 0x10E3, 0x10F0}, "ყველა ადამიანი იბადება თავისუფალი"},
    {"covers_armenian", {0x531, 0x556, 0x561, 0x586}, "Բոլոր մարդիկ ծնվում են ազատ"},
    {"covers_ethiopic", {0x1200, 0x1208, 0x1218, 0x12A0}, "የሰው ልጅ ሁሉ ሲወለድ ነጻና በክብርና"},
    {"covers_hangul", {0xAC00, 0xB098, 0xB2E4, 0xD55C}, "다람쥐 헌 쳇바퀴에 타고파"},
    {"covers_kana", {0x3042, 0x3044, 0x30A2, 0x30A4}, "いろはにほへと ちりぬるを カタカナ"},
    {"covers_math", {0x2200, 0x2211, 0x222B, 0x2260}, "∀x∈ℝ ∑ ∫ √ ∞ ≤ ≥ ≠ ∂ ∇"},
    {"covers_symbols", {0x25A0, 0x25B2, 0x25C6, 0x25CF}, "■□▲△▶◀●○◆◇◐◑★☆♠♣♥♦♪♫"},
    {"covers_emoji", {0x1F600, 0x1F389, 0x1F30D, 0x1F680}, "😀🎉🌍🚀🐱🍕⚽🎵"},
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
