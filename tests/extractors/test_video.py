"""test_video.py: sx-video on every clip under fixtures/video, against
fixtures/video_expectations.json, against ffprobe (metadata) and against the ffmpeg CLI
(pixels) as the independent reference, plus hostile inputs and the strict-mode proof.

The reference picture is the first frame the CLI extracts, autorotated as it does by
default: `ffmpeg -threads 1 -i F -frames:v 1 -pix_fmt rgba` (one decoder thread so error
concealment on the damaged clips is the same as ours). Tolerances, as mean absolute
error per RGB channel (of 255), stated once here:
- full frames: within FULL_TOLERANCE of the CLI's (same decoder, same swscale flags and
  colour matrix: in practice 0);
- thumbnails: within THUMB_TOLERANCE of an exact area average of the CLI's frame to the
  same size (sample aspect ratio and rotation applied). Measured: at most 0.9 where we
  shrink by less than 2 (full-size conversion, then sx_downscale_rgba), 0.8 to 1.35 where
  swscale's area filter shrinks in one pass (its weights are not exact areas).
The ffprobe comparisons skip, saying so, when ffmpeg/ffprobe are not installed.
"""
import json
import random
import shutil
import subprocess
from fractions import Fraction
from functools import lru_cache

import pytest
from PIL import Image, ImageChops, ImageStat

from answer import BIN, FIXTURES, run, run_raw
from test_sandbox import syscalls_after_the_line

FULL_TOLERANCE = 0.5
THUMB_TOLERANCE = 2.0
DURATION_TOLERANCE = 0.051  # seconds: one frame at 25 fps, plus rounding
ALL_MODES = (["--probe"], ["--thumbnail", "64"], ["--full"])

EXPECT = json.loads((FIXTURES / "video_expectations.json").read_text())
GOOD = sorted(k for k, v in EXPECT.items() if v["outcome"] == "ok")
BAD = sorted(k for k, v in EXPECT.items() if v["outcome"] == "error")
DAMAGED = sorted(k for k, v in EXPECT.items() if v["outcome"] == "error_or_ok")
# PQ/HLG clips are tone-mapped: the CLI's plain conversion is no reference for their pixels
# (test_video_modern.py compares them with the SDR picture they were made from).
SDR = [k for k in GOOD if not EXPECT[k].get("hdr")]

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def video(args, name=None, data=None, **kw):
    if name is not None:
        return run("sx-video", args, path=FIXTURES / name, **kw)
    return run("sx-video", args, data=data, **kw)


@lru_cache(maxsize=None)
def probe(name):
    """The probe answer for a good clip (each exec costs ~25-70 ms of dynamic linking:
    asked once, checked by several tests)."""
    r = video(["--probe"], name)
    assert r.kind == "meta", r.detail
    return r.meta


def need_ffmpeg():
    if not HAVE_FFMPEG:
        pytest.skip("ffmpeg/ffprobe not installed (apt-get install ffmpeg): sx-video's answer "
                    "was checked, the comparison with an independent decoder was skipped")


@lru_cache(maxsize=None)
def ffprobe(name):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format",
                          str(FIXTURES / name)], capture_output=True, check=True).stdout
    info = json.loads(out)
    videos = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert len(videos) == 1, name
    return info, videos[0]


@lru_cache(maxsize=None)
def ffmpeg_frame(name):
    """The CLI's first frame, autorotated, as an RGBA PIL image."""
    png = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-i", str(FIXTURES / name),
                          "-frames:v", "1", "-pix_fmt", "rgba", "-c:v", "png", "-f", "image2pipe",
                          "-"], capture_output=True, check=True).stdout
    from io import BytesIO
    im = Image.open(BytesIO(png))
    im.load()
    return im.convert("RGBA")


def as_image(r):
    return Image.frombytes("RGBA" if r.channels == 4 else "RGB", (r.width, r.height), r.pixels)


def mean_error(a, b):
    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def area_average(im, size):
    """An exact area average, near enough: Pillow's BOX filter weighs whole source pixels
    by their centres, which at small factors (64x48 to 53x40) is nearly nearest-neighbour;
    on the picture blown up 8 times with NEAREST first, each pixel is 64 samples."""
    if im.width * im.height <= 200_000:
        im = im.resize((im.width * 8, im.height * 8), Image.NEAREST)
    return im.resize(size, Image.BOX)


def fit(w, h, bw, bh):
    """sx_fit_box(): aspect kept, at least 1x1, never enlarged, rounded to nearest."""
    if w <= bw and h <= bh:
        return w, h
    if w * bh >= h * bw:
        return bw, max(1, (h * bw * 2 + w) // (2 * w))
    return max(1, (w * bh * 2 + h) // (2 * h)), bh


def ffprobe_rotation(stream):
    for sd in stream.get("side_data_list", []):
        if sd.get("side_data_type") == "Display Matrix":
            return int(round(-float(sd["rotation"]))) % 360
    return 0


def ratio(text):
    n, d = text.split("/") if "/" in text else (text, "1")
    return Fraction(int(n), int(d)) if int(d) else Fraction(0)


# ---------------------------------------------------------------------------
# Metadata


@pytest.mark.parametrize("name", GOOD)
def test_probe_matches_expectations(name):
    e = EXPECT[name]
    m = probe(name)
    for key in ("format", "codec", "profile", "width", "height", "pix_fmt", "rotation", "has_audio"):
        if key == "profile" and e["codec"] == "vp8":
            # FFmpeg's VP8 decoder reports no profile (ffprobe's "0" is the default its
            # stream analysis leaves); VP8 has one profile in practice.
            continue
        assert m.get(key) == e[key], (key, m.get(key), e[key])
    assert m["bit_depth"] == (12 if "12" in e["pix_fmt"] else 10 if "10" in e["pix_fmt"] else 8)
    swap = e["rotation"] in (90, 270)
    assert (m["display_width"], m["display_height"])[::-1 if swap else 1][1] == e["height"]
    if e["format"] in ("mp4", "mov", "matroska", "mpegts"):
        assert m["duration"] > 0 and m["frame_rate"] > 0


@pytest.mark.parametrize("name", GOOD)
def test_probe_agrees_with_ffprobe(name):
    need_ffmpeg()
    info, v = ffprobe(name)
    m = probe(name)
    assert m["codec"] == v["codec_name"]
    assert (m["width"], m["height"]) == (v["width"], v["height"])
    if v["codec_name"] != "vp8":
        assert m["profile"] == v["profile"]
    assert m["pix_fmt"] == v["pix_fmt"]
    # No level for VP8/VP9 (-99); AV1's level 0 is level 2.0.
    real_level = v["level"] > 0 or (v["codec_name"] == "av1" and v["level"] >= 0)
    assert m.get("level") == (v["level"] if real_level else None)
    assert m["rotation"] == ffprobe_rotation(v)
    assert m["has_audio"] == any(s["codec_type"] == "audio" for s in info["streams"])
    if "bits_per_raw_sample" in v:
        assert m["bit_depth"] == int(v["bits_per_raw_sample"])
    if v.get("sample_aspect_ratio", "N/A") != "N/A":
        assert m["sample_aspect_ratio"] == v["sample_aspect_ratio"]
        assert m["display_aspect_ratio"] == v["display_aspect_ratio"]
    # Duration: the stream's own when the container has one, else the container's; for
    # MPEG-TS both sides estimate it from timestamps; raw streams have none at all.
    theirs = v.get("duration", info["format"].get("duration"))
    if theirs is None:
        assert "duration" not in m
    else:
        assert abs(m["duration"] - float(theirs)) <= DURATION_TOLERANCE, (m["duration"], theirs)
    avg, real = ratio(v["avg_frame_rate"]), ratio(v["r_frame_rate"])
    expected_rate = avg or real
    if "frame_rate" in m:
        assert abs(m["frame_rate"] - float(expected_rate)) <= 0.01 * float(expected_rate)
    if "nb_frames" in v:
        assert m["frame_count"] == int(v["nb_frames"])


# ---------------------------------------------------------------------------
# Pixels


@pytest.mark.parametrize("name", SDR)
def test_full_frame_matches_ffmpeg(name):
    r = video(["--full"], name)
    assert r.kind == "image" and r.channels == 4, r.detail
    m = probe(name)
    assert (r.width, r.height) == (m["width"], m["height"])[::-1 if m["rotation"] % 180 else 1]
    need_ffmpeg()
    expected = ffmpeg_frame(name)
    assert (r.width, r.height) == expected.size
    assert mean_error(as_image(r), expected) <= FULL_TOLERANCE


@pytest.mark.parametrize("name", SDR)
def test_thumbnail_fits_display_size_and_matches(name):
    box = (64, 40)
    r = video(["--thumbnail", "%dx%d" % box, "--rgb"], name)
    assert r.kind == "image" and r.channels == 3, r.detail
    m = probe(name)
    assert (r.width, r.height) == fit(m["display_width"], m["display_height"], *box)
    need_ffmpeg()
    reference = area_average(ffmpeg_frame(name), (r.width, r.height))
    assert mean_error(as_image(r), reference) <= THUMB_TOLERANCE


def test_rotation_turns_the_picture():
    """The same stored 64x48 picture: 90 and 270 are mirror turns, 180 is both flips."""
    frames = {deg: as_image(video(["--full"], "video/good/h264_rotate_%d.mp4" % deg))
              for deg in (90, 180, 270)}
    assert frames[90].size == frames[270].size == (48, 64)
    assert frames[180].size == (64, 48)
    assert mean_error(frames[90].rotate(180), frames[270]) < 1.0
    assert mean_error(frames[90].rotate(90, expand=True).transpose(Image.ROTATE_180),
                      frames[180]) < 1.0


def test_rgb_layout_drops_alpha():
    name = "video/good/h264_high_420_aac.mp4"
    rgba = video(["--full"], name)
    rgb = video(["--full", "--rgb"], name)
    assert rgb.channels == 3 and (rgb.width, rgb.height) == (rgba.width, rgba.height)
    assert as_image(rgb).tobytes() == as_image(rgba).convert("RGB").tobytes()
    assert set(rgba.pixels[3::4]) == {255}


def test_thumbnail_is_never_enlarged():
    r = video(["--thumbnail", "1000"], "video/good/h264_cbaseline.mp4")
    assert (r.width, r.height) == (128, 72)
    r = video(["--thumbnail", "1000"], "video/good/h264_anamorphic.mp4")
    assert (r.width, r.height) == (160, 90)  # 120x90 stored, sample aspect ratio 4:3


def test_odd_sizes_in_thumbnails():
    r = video(["--thumbnail", "100x100"], "video/good/h264_4097x17.mkv")
    assert (r.width, r.height) == (100, 1)
    r = video(["--thumbnail", "5"], "video/good/h264_1x1.mp4")
    assert (r.width, r.height) == (1, 1)


# ---------------------------------------------------------------------------
# Limits and hostile input


def test_pixel_cap_refuses_before_decoding():
    r = video(["--full", "--max-pixels", "1000"], "video/good/h264_720p.mp4")
    assert r.status == "limit", r.detail
    r = video(["--probe", "--max-pixels", "1000"], "video/good/h264_720p.mp4")
    assert r.status == "limit", r.detail


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_a_clean_error(name):
    for mode in ALL_MODES:
        r = video([*mode, "--memory", "64M"], name, timeout=10)
        assert r.kind == "error", f"{name} {mode}: got {r.kind}"
        assert r.status == EXPECT[name]["status"], (name, mode, r.status, r.detail)
        assert r.detail
        assert r.cpu_seconds < 2.0
        assert r.maxrss_kib < 96 * 1024, r.maxrss_kib


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_is_a_clean_answer(name):
    for mode in ALL_MODES:
        r = video(mode, name, timeout=10)
        assert r.kind in ("meta", "image", "error"), name
        if r.kind == "error":
            assert r.status == EXPECT[name]["status"], (name, mode, r.detail)


def truncations():
    out = []
    for name in ("video/good/h264_high_420_aac.mp4", "video/good/hevc_main10.mkv",
                 "video/good/h264_mp2.ts", "video/good/hevc_annexb.hevc"):
        size = (FIXTURES / name).stat().st_size
        for cut in (8, 100, size // 2, size - 10):
            out.append((name, cut))
    return out


@pytest.mark.parametrize("name,cut", truncations())
def test_truncated_is_a_clean_answer(name, cut):
    data = (FIXTURES / name).read_bytes()[:cut]
    for mode in (["--probe"], ["--thumbnail", "64"]):
        r = video(mode, data=data, timeout=10)
        assert r.kind in ("error", "meta", "image"), (name, cut, mode)
        if r.kind == "error":
            assert r.status in ("bad_input", "unsupported"), (name, cut, mode, r.detail)


def random_inputs():
    """Random bytes, alone and behind the magic of each container we open, so the
    demuxers and decoders get past their probes."""
    rng = random.Random(23)
    heads = [b"", b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
             b"\0\0\0\1\x67\x64\0\x1f", b"\0\0\0\1\x40\x01\x0c\x01"]
    out = []
    for i in range(10):
        head = heads[i % len(heads)]
        out.append(head + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6000))))
    # MPEG-TS: packets with a valid sync byte and random payloads.
    out.append(b"".join(b"\x47" + bytes(rng.randrange(256) for _ in range(187)) for _ in range(40)))
    out.append(b"".join(b"\0\0\1" + bytes([0x65 if i % 3 else 0x67]) +
                        bytes(rng.randrange(1, 256) for _ in range(rng.randrange(4, 300)))
                        for i in range(30)))
    return out


def test_random_bytes_are_clean_errors():
    for data in random_inputs():
        for mode in (["--probe"], ["--thumbnail", "32"]):
            r = video(mode, data=data, timeout=10)
            assert r.kind == "error" and r.status in ("unsupported", "bad_input"), (data[:16], r.detail)


def test_playlists_never_reach_a_file():
    """HLS and concat lists are refused before any demuxer reads them; even so, nothing
    of /etc/passwd may appear in the answer."""
    for name in ("video/bad/hls_file_passwd.m3u8", "video/bad/concat_list.ffconcat"):
        for mode in ALL_MODES:
            r = video(mode, name)
            assert r.status == "unsupported" and b"root:" not in r.out


def test_empty_input_is_bad_input():
    with open("/dev/null", "rb") as f:
        from answer import parse
        r = parse(run_raw("sx-video", ["--probe"], stdin=f))
    assert r.status == "bad_input" and "empty" in r.detail


def test_help_names_the_formats():
    p = subprocess.run([str(BIN / "sx-video"), "--help"], capture_output=True, env={})
    assert p.returncode == 0 and p.stderr == b""
    for word in (b"H.264", b"HEVC", b"--thumbnail", b"strict"):
        assert word in p.stdout


# ---------------------------------------------------------------------------
# The sandbox: nothing but read/write/exit after the line, on every container and codec


STRACE_SAMPLE = ["video/good/h264_high_420_aac.mp4", "video/good/h264_main_opus.mkv",
                 "video/good/h264_mp2.ts", "video/good/h264_starts_mid_gop.h264",
                 "video/good/hevc_main10_aac.ts", "video/good/hevc_rext_422_10.mp4",
                 "video/good/h264_rotate_90.mp4", "video/bad/mkv_h264_garbage_frames.mkv",
                 "video/bad/hls_file_passwd.m3u8"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m[0])
def test_only_read_write_exit_after_the_line(mode, tmp_path):
    for name in STRACE_SAMPLE:
        trace = tmp_path / "trace"
        with open(FIXTURES / name, "rb") as f:
            p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), str(BIN / "sx-video"),
                                *mode], stdin=f, capture_output=True, env={})
        assert p.returncode in (0, 1), f"{name}: exit {p.returncode}"
        calls = syscalls_after_the_line(trace.read_text())
        assert calls <= {"read", "write", "exit"}, (name, calls)


# A lazy initialisation the warm-up missed shows up as a SIGKILL, which no test above
# would take for an answer: every good clip already runs in every mode (probe, thumbnail
# and full, with or without ffmpeg installed), every bad and damaged one too.


# ---------------------------------------------------------------------------
# The Python client, end to end


def test_python_client_stream_video(monkeypatch):
    sx = pytest.importorskip("sandbox_extractor", reason="pyclient not on PYTHONPATH")
    monkeypatch.setenv("SANDBOX_EXTRACTOR_BIN_DIR", str(BIN))
    path = FIXTURES / "video/good/h264_rotate_90.mp4"
    meta = sx.probe_format(sx.STREAM_VIDEO, str(path)).as_dict()
    assert meta["format"] == "mp4" and meta["codec"] == "h264" and meta["rotation"] == 90
    with open(path, "rb") as f:
        im = sx.load_image(sx.STREAM_VIDEO, f, 32)
    assert im.mode == "RGB" and im.size == (24, 32)
    with pytest.raises(sx.DecodeError):
        sx.probe_format(sx.STREAM_VIDEO, str(FIXTURES / "video/bad/hls_file_passwd.m3u8"))
