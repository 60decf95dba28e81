"""test_pyclient_font_options.py: the font options of probe_format/load_image (face=,
text=, font_size=) and `faces` as a list, in both execution modes (issue 18)."""
import pytest

import sandbox_extractor as sx
from sxtest_paths import FIXTURES

COLLECTION = FIXTURES / "fonts/good/noto_sans_cjk_collection.ttc"
DEVANAGARI = FIXTURES / "fonts/good/noto_sans_devanagari.ttf"


def test_face_picks_a_face_and_faces_is_a_list(execution):
    infos = [sx.probe_format(sx.STREAM_FONT, COLLECTION, face=i) for i in range(3)]
    names = infos[0].faces
    assert isinstance(names, list) and len(names) == 3
    for i, info in enumerate(infos):
        assert info.face_index == i
        assert names[i] == "%s %s" % (info.family_name, info.style_name)
    with pytest.raises(sx.DecodeError):
        sx.probe_format(sx.STREAM_FONT, COLLECTION, face=3)


def test_text_and_font_size(execution):
    small = sx.load_image(sx.STREAM_FONT, DEVANAGARI, text="नमस्ते", font_size=20)
    big = sx.load_image(sx.STREAM_FONT, DEVANAGARI, text="नमस्ते", font_size=40)
    assert 1.7 < big.height / small.height < 2.3
    thumb = sx.load_image(sx.STREAM_FONT, COLLECTION, (64, 64), face=1)
    assert thumb.width <= 64 and thumb.height <= 64


@pytest.mark.parametrize("kw,exc", [
    ({"text": ""}, ValueError), ({"text": "x" * 257}, ValueError),
    ({"text": "a\nb"}, ValueError), ({"text": b"ab"}, TypeError),
    ({"font_size": 5}, ValueError), ({"font_size": 201}, ValueError),
    ({"face": -1}, ValueError), ({"face": True}, TypeError)])
def test_bad_font_options_are_refused_before_running(kw, exc):
    with pytest.raises(exc):
        sx.load_image(sx.STREAM_FONT, DEVANAGARI, 64, **kw)


def test_font_options_are_for_fonts_only():
    with pytest.raises(ValueError):
        sx.probe_format(sx.STREAM_IMAGE, b"\x89PNG", face=0)
