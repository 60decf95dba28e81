"""test_pyclient_heif.py: HEIC and AVIF through the public API. STREAM_IMAGE (and
STREAM_AUTO) route them to sx-heif by the ftyp brand, for paths, bytes, file objects and
pipes alike (a pipe is copied into a memfd first, so its first bytes are still there for
the extractor), in both execution modes; the typed ImageInfo fields arrive."""
import json
import os
import subprocess
import threading

import pytest
from PIL import Image, ImageChops, ImageStat

import sandbox_extractor as sx
from sandbox_extractor import _sniff
from sxtest_paths import FIXTURES

HEIF = FIXTURES / "heif"
EXPECT = json.loads((FIXTURES / "heif_expectations.json").read_text())


def test_sniff_routes_heif_brands_to_sx_heif():
    for brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif",
                  b"avis"):
        head = b"\0\0\0\x18ftyp" + brand + bytes(12)
        assert _sniff.extractor_for(sx.STREAM_IMAGE, head) == "sx-heif", brand
        assert sx._api.kind_for_head(head) == sx.STREAM_IMAGE
    assert _sniff.extractor_for(sx.STREAM_IMAGE, b"\xff\xd8\xff\xe0") == "sx-image"
    assert _sniff.extractor_for(sx.STREAM_VIDEO, b"\0\0\0\x18ftypisom") == "sx-video"
    # An MP4 passed as an image still goes to sx-image, which refuses it, named.
    assert _sniff.extractor_for(sx.STREAM_IMAGE, b"\0\0\0\x18ftypisom") == "sx-image"


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_every_fixture_through_load_image(rel, execution):
    e = EXPECT[rel]
    info = sx.probe_format(sx.STREAM_IMAGE, HEIF / rel)
    assert isinstance(info, sx.ImageInfo)
    for key, want in e.items():
        if key != "ref":
            assert getattr(info, key) == want, (rel, key)
    assert info.display_size == (info.width, info.height)
    full = sx.load_image(sx.STREAM_IMAGE, HEIF / rel)
    assert full.size == (info.width, info.height)
    thumb = sx.load_image(sx.STREAM_AUTO, (HEIF / rel).read_bytes(), size=32)
    assert max(thumb.size) == 32
    if e.get("has_alpha"):
        assert full.mode == "RGBA"


def _pipe_of(data):
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(data)

    t = threading.Thread(target=feed)
    t.start()
    return os.fdopen(r, "rb"), t


def test_a_pipe_is_routed_by_its_first_bytes(execution):
    """A non-seekable stream: the client copies it, then sniffs the copy."""
    for rel in ("grid_rot_mirror.heic", "alpha.avif"):
        data = (HEIF / rel).read_bytes()
        pipe, t = _pipe_of(data)
        with pipe:
            im = sx.load_image(sx.STREAM_IMAGE, pipe)
        t.join()
        ref = sx.load_image(sx.STREAM_IMAGE, HEIF / rel)
        assert im.size == ref.size and im.tobytes() == ref.tobytes()
        proc = subprocess.Popen(["cat", str(HEIF / rel)], stdout=subprocess.PIPE)
        info = sx.probe_format(sx.STREAM_IMAGE, proc.stdout)
        proc.wait()
        proc.stdout.close()
        assert info.format == EXPECT[rel]["format"]


def test_grid_with_icc_is_colour_converted(execution):
    path = HEIF / "grid_rot_mirror.heic"
    srgb = sx.load_image(sx.STREAM_IMAGE, path, mode="RGB")
    raw = sx.load_image(sx.STREAM_IMAGE, path, mode="RGB", color="raw")
    err = sum(ImageStat.Stat(ImageChops.difference(srgb, raw)).mean) / 3
    assert err > 1.0, "the Adobe RGB profile was not applied"


def test_sx_image_refusal_names_sx_heif(extractors):
    """Asking sx-image directly (the routing bypassed) is a clear refusal."""
    from sandbox_extractor import _request, _runner

    req = _request.make_request("probe")
    with pytest.raises(sx.UnsupportedFormatError, match="sx-heif"):
        _runner.run_extractor("sx-image", req, HEIF / "single.heic")


def test_limits_are_refused_as_limit(execution):
    with pytest.raises(sx.LimitExceededError):
        sx.load_image(sx.STREAM_IMAGE, HEIF / "grid.heic", max_pixels=100 * 99)
