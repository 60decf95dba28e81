#!/usr/bin/python3
"""make_hdr_figure.py: docs/hdr_tone_mapping.png, the HDR side-by-side (issue 17).

Rows: the PQ (HDR10) and HLG pinning clips of fixtures/video/good/ (made from
fixtures/video/hdr_source.png by zscale at 100 nits), then the PQ clip with white at
1000 nits. Columns: the SDR picture, the ffmpeg CLI's plain conversion (no tone mapping:
what sx-video gave before issue 17), sx-video's answer now. Needs build/bin/sx-video and
ffmpeg. Rerun with:  /usr/bin/python3 docs/make_hdr_figure.py
"""
import subprocess
import sys
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "extractors"))
from answer import FIXTURES, run  # noqa: E402
from test_video import as_image, mean_error  # noqa: E402

CLIPS = ["hdr_pq_hdr10.mp4", "hdr_hlg_444.mkv", "hdr_pq_1000nits.mkv"]


def cli_frame(path):
    png = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-i", str(path), "-frames:v",
                          "1", "-pix_fmt", "rgb24", "-c:v", "png", "-f", "image2pipe", "-"],
                         capture_output=True, check=True).stdout
    return Image.open(BytesIO(png)).convert("RGB")


def main():
    src = Image.open(FIXTURES / "video" / "hdr_source.png").convert("RGB")
    w, h, pad, top = src.width, src.height, 4, 14
    sheet = Image.new("RGB", (3 * w + 4 * pad, len(CLIPS) * (h + top) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for row, name in enumerate(CLIPS):
        path = FIXTURES / "video" / "good" / name
        before = cli_frame(path)
        after = as_image(run("sx-video", ["--full"], path=path)).convert("RGB")
        y = row * (h + top) + top
        for col, (label, im) in enumerate((
                ("SDR picture", src),
                ("%s plain %.0f" % (name.split(".")[0][4:], mean_error(before, src)), before),
                ("sx-video %.1f" % mean_error(after, src), after))):
            x = pad + col * (w + pad)
            sheet.paste(im, (x, y))
            draw.text((x, y - 12), label, fill="black")
    out = ROOT / "docs" / "hdr_tone_mapping.png"
    sheet.quantize(128).save(out, optimize=True)
    print("make_hdr_figure.py: wrote", out.relative_to(ROOT))


if __name__ == "__main__":
    main()
