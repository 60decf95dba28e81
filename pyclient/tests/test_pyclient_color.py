"""test_pyclient_color.py: load_image(color=...) and `thumbnail --color` (issue 14): the
default is sRGB as viewers show it, "raw" keeps stored values; both execution modes."""
import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

import sandbox_extractor as sx
from sandbox_extractor import cli
from sxtest_paths import FIXTURES

P3 = FIXTURES / "color" / "jpeg_p3.jpg"


def mean_error(a, b):
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def reference_srgb():
    im = Image.open(P3)
    src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
    return ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB",
                                     renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


def test_load_image_converts_by_default_and_raw_keeps_values(execution):
    with open(P3, "rb") as f:
        default = sx.load_image("image", f)
    with open(P3, "rb") as f:
        raw = sx.load_image("image", f, color="raw")
    assert mean_error(default, reference_srgb()) <= 1.5
    assert mean_error(raw, Image.open(P3)) <= 1.0
    assert mean_error(default, raw) > 4.5


def test_color_is_checked_before_anything_runs(extractors):
    with open(P3, "rb") as f, pytest.raises(ValueError):
        sx.load_image("image", f, color="adobe")


def test_cli_thumbnail_color_option(extractors, tmp_path, capsys):
    for color in ("srgb", "raw"):
        out = tmp_path / color
        assert cli.main(["thumbnail", str(P3), "-o", str(out), "--size", "96",
                         "--color", color, "-j", "1"]) == 0
    a = Image.open(next((tmp_path / "srgb").rglob("*.png")))
    b = Image.open(next((tmp_path / "raw").rglob("*.png")))
    assert mean_error(a, reference_srgb()) <= 1.5
    assert mean_error(a, b) > 4.5
