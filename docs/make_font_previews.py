#!/usr/bin/python3
"""docs/make_font_previews.py: writes docs/font_previews.png, sx-font's thumbnails (400x60
box, RGBA on white) of the shaped-script and colour font fixtures, one a row, each with
the fixture's name: the picture checked by eye for issue 18 (Arabic joined right to left,
Devanagari and Bengali conjuncts and matras in place, colour glyphs in colour).

    /usr/bin/python3 docs/make_font_previews.py   # after building (build/bin/sx-font)
"""
import sys
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/extractors"))
from answer import run  # noqa: E402

FONTS = ["noto_sans_arabic_shaped.ttf", "noto_sans_devanagari.ttf", "noto_sans_bengali.ttf",
         "noto_sans_tamil.ttf", "noto_sans_thai.ttf", "noto_sans_hebrew.ttf",
         "noto_sans_cjk_kr_hangul.otf", "noto_sans_ethiopic.ttf", "noto_color_emoji.ttf",
         "colr_squares.ttf", "sbix_squares.ttf", "vary_stems_cff2.otf"]
LABEL_W, ROW_H = 210, 64


def main():
    sheet = Image.new("RGB", (LABEL_W + 400, ROW_H * len(FONTS)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(FONTS):
        r = run("sx-font", ["--thumbnail", "400x60"], path=REPO / "fixtures/fonts/good" / name)
        assert r.kind == "image", (name, r.detail)
        im = Image.frombytes("RGBA", (r.width, r.height), bytes(r.pixels))
        y = i * ROW_H
        draw.text((4, y + ROW_H // 2 - 6), name, fill=(90, 90, 90))
        sheet.paste(im, (LABEL_W, y + (ROW_H - r.height) // 2), im)
        draw.line((0, y + ROW_H - 1, sheet.width, y + ROW_H - 1), fill=(220, 220, 220))
    out = REPO / "docs/font_previews.png"
    sheet.quantize(64).save(out, optimize=True)
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
