"""The answer parser against hand-made and hypothesis-generated hostile messages."""

import math
import signal
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sxtest_messages as M
from sandbox_extractor import _judge, _request
from sandbox_extractor import (
    BadInputError,
    DecodeError,
    DecodeTimeout,
    ExtractorError,
    ImageInfo,
    LimitExceededError,
    ProtocolError,
    SandboxUnavailable,
    SandboxViolation,
    UnsupportedFormatError,
)
from sandbox_extractor import _api, _spawn, _wire
from sandbox_extractor._wire import Expect

META = Expect(result=_wire.TYPE_META)
FULL = Expect(result=_wire.TYPE_IMAGE, channels=4, max_pixels=10_000)
BOX = Expect(result=_wire.TYPE_IMAGE, channels=3, box_width=16, box_height=8, max_pixels=10_000)


FRAMES = Expect(result=_wire.TYPE_FRAMES, channels=4, box_width=16, box_height=8,
                max_pixels=1_000, frames=5)


def parse(data, expect=META):
    return _wire.parse_answer(data, expect)


def rejects(data, expect=META, match=None):
    with pytest.raises(ProtocolError, match=match):
        parse(data, expect)


# ---- valid messages -------------------------------------------------------------------


def test_error_message():
    answer = parse(M.error(1, "corrupt \u00e9".encode()))
    assert answer == _wire.ErrorAnswer(status=1, detail="corrupt \u00e9")


def test_error_message_with_empty_and_longest_detail():
    assert parse(M.error(2, b"")).detail == ""
    assert parse(M.error(2, b"x" * 256)).detail == "x" * 256


def test_meta_message_all_types():
    answer = parse(
        M.meta([
            (b"format", 3, "png"),
            (b"n", 1, -(2**63)),
            (b"f", 2, 1.5),
            (b"b", 4, 1),
            (b"s_2", 3, "\u2603" * 341),
        ])
    )
    assert answer.fields == {"format": "png", "n": -(2**63), "f": 1.5, "b": True, "s_2": "\u2603" * 341}
    assert type(answer.fields["b"]) is bool


def test_meta_message_at_limits():
    fields = [(b"format", 3, "x")] + [(f"k{i:031d}".encode(), 1, i) for i in range(63)]
    assert len(parse(M.meta(fields)).fields) == 64
    assert parse(M.meta([(b"format", 3, "y" * 1024)])).fields["format"] == "y" * 1024


def test_image_message_full_and_box():
    answer = parse(M.image(100, 100, 4), FULL)
    assert (answer.width, answer.height, answer.channels) == (100, 100, 4)
    assert bytes(answer.pixels) == bytes(M.image(100, 100, 4)[24:])
    answer = parse(M.image(16, 8, 3), BOX)
    assert len(answer.pixels) == 16 * 8 * 3


# ---- header ---------------------------------------------------------------------------


def test_empty_and_short_answers():
    rejects(b"", match="no answer")
    rejects(b"SXAN\x01\x00", match="truncated")


def test_bad_magic_version_type():
    rejects(M.message(1, b"\x01\0\0\0\0\0", magic=b"SXAM"), match="magic")
    for old_or_new in (2, 4):  # a release apart: refused, saying what to install
        rejects(M.message(1, b"\x01\0\0\0\0\0", version=old_or_new),
                match=f"speaks wire version {old_or_new}, this client .* speaks version 3: "
                "install the extractors and the Python package of the same release")
    rejects(M.message(9, b""), match="not a valid answer")
    rejects(M.meta(M.IMAGE_META), FULL, match="not a valid answer")
    rejects(M.image(2, 2), META, match="not a valid answer")
    rejects(M.frames(2, 2, [10]), FULL, match="not a valid answer")
    rejects(M.image(2, 2), FRAMES, match="not a valid answer")


def test_auto_alpha_answers_either_layout_and_nothing_else():
    auto = Expect(result=_wire.TYPE_IMAGE, channels=_wire.LAYOUT_AUTO, box_width=4, box_height=4)
    for channels in (3, 4):
        answer = _wire.parse_answer(M.image(2, 2, channels=channels), auto)
        assert answer.channels == channels
    rejects(M.image(2, 2, channels=4), Expect(result=_wire.TYPE_IMAGE, channels=3),
            match="4 channels, 3 were requested")


def test_lengths_bounded_before_reading():
    # Announced lengths beyond what the request allows fail on the header alone.
    for header, expect in [
        (M.message(1, b"", length=6 + 257), META),
        (M.message(2, b"", length=65537), META),
        (M.message(3, b"", length=12 + 10_001 * 4), FULL),
        (M.message(3, b"", length=12 + 16 * 8 * 3 + 1), BOX),
        (M.message(3, b"", length=0xFFFFFFFF), FULL),
        (M.message(1, b"", length=5), META),
    ]:
        with pytest.raises(ProtocolError, match="payload length"):
            _wire.message_length(header[:12], expect)


def test_truncated_and_trailing():
    good = M.error(1, b"abc")
    rejects(good[:-1], match="truncated")
    rejects(good + b"\0", match="trailing")
    rejects(M.image(4, 4)[:-1], FULL, match="truncated")
    rejects(M.image(4, 4) + M.image(4, 4), FULL, match="trailing")


# ---- error payload --------------------------------------------------------------------


def test_error_payload_rules():
    rejects(M.error(0), match="status 0")
    rejects(M.error(9), match="unknown status")
    rejects(M.error(0xFFFFFFFF), match="unknown status")
    rejects(M.error(1, b"\xff\xfe"), match="UTF-8")
    bad_len = M.message(1, struct.pack("<IH", 1, 5) + b"abc")
    rejects(bad_len, match="detail_len")


# ---- metadata payload -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, count, match",
    [
        ([(b"format", 3, "png")], 2, "truncated"),
        ([(b"format", 3, "png"), (b"x", 1, 1)], 1, "after the last"),
        ([(b"format", 3, "png")] * 2, None, "duplicate"),
        ([(b"Format", 3, "png")], None, "not \\[a-z0-9_\\]"),
        ([(b"for-mat", 3, "png")], None, "not \\[a-z0-9_\\]"),
        ([(b"", 3, "png")], None, "key length 0"),
        ([(b"k" * 33, 1, 1)], None, "key length 33"),
        ([(b"format", 3, "png"), (b"f", 2, math.nan)], None, "finite"),
        ([(b"format", 3, "png"), (b"f", 2, math.inf)], None, "finite"),
        ([(b"format", 3, "png"), (b"b", 4, 2)], None, "not 0 or 1"),
        ([(b"format", 3, b"\xc3\x28")], None, "UTF-8"),
        ([(b"format", 3, b"\xed\xa0\x80")], None, "UTF-8"),  # a surrogate
        ([(b"format", 3, "x" * 1025)], None, "exceeds 1024"),
        ([(b"width", 1, 3)], None, "format"),
        ([(b"format", 1, 3)], None, "format"),
        ([(b"format", 3, "")], None, "format"),
    ],
)
def test_meta_payload_rules(fields, count, match):
    rejects(M.meta(fields, count), match=match)


def test_meta_field_count_and_unknown_vtype():
    rejects(M.meta([(b"format", 3, "x")], count=65), match="more than 64")
    rejects(M.message(2, b"\x01\x00\x01k\x05\0\0\0\0\0\0\0\0"), match="value type 5")


def test_meta_payload_over_65536():
    big = [(b"format", 3, "x")] + [(f"k{i:030d}".encode(), 3, "y" * 1024) for i in range(63)]
    rejects(M.meta(big), match="payload length")


# ---- image payload --------------------------------------------------------------------


def test_image_payload_rules():
    rejects(M.image(0, 5, pixels=b"\0" * 4), FULL, match="0x5")
    rejects(M.image(2, 2, 3), FULL, match="channels")
    rejects(M.image(2, 2, reserved=b"\0\1\0"), FULL, match="reserved")
    rejects(M.image(17, 7, 3), BOX, match="box")
    rejects(M.image(8, 9, 3), BOX, match="box")
    # Within the byte bound of a 7-pixel cap (3 * 8 = 24 <= 4 * 7) but 8 pixels.
    capped = Expect(result=3, channels=3, max_pixels=8)
    rejects(M.image(1, 9, 3, pixels=b"\0" * 27), capped, match="payload length")
    rejects(M.image(2, 4, 3, pixels=b"\0" * 21), capped, match="needs 24 bytes")
    rejects(M.image(2, 2, pixels=b"\0" * 15), FULL, match="needs 16 bytes")
    rejects(M.image(2, 2, pixels=b"\0" * 17), FULL, match="needs 16 bytes")
    # width * height overflowing 32 bits is caught by the pixel count, not wrapped.
    rejects(M.image(0x10000, 0x10001, pixels=b"\0" * 16), FULL, match="cap|needs")


def test_image_info_from_meta():
    info = _api.metadata_from_answer(_api.STREAM_IMAGE, parse(M.meta(M.IMAGE_META + [(b"new", 2, 0.5)])))
    assert isinstance(info, ImageInfo)
    assert (info.format, info.width, info.height, info.has_alpha, info.progressive) == ("png", 640, 480, False, True)
    assert info.orientation == 1 and info.extra == {"new": 0.5}
    for bad in ([(b"format", 3, "png"), (b"width", 1, 1)],
                [(b"format", 3, "png"), (b"width", 1, 0), (b"height", 1, 1)],
                [(b"format", 3, "png"), (b"width", 4, 1), (b"height", 1, 1)],
                [(b"format", 3, "png"), (b"width", 1, 2), (b"height", 1, 1), (b"orientation", 1, 9)]):
        with pytest.raises(ProtocolError):
            _api.metadata_from_answer(_api.STREAM_IMAGE, parse(M.meta(bad)))


# ---- judging a finished run (exit status against message) ----------------------------


def outcome(stdout=b"", exit_status=0, sig=None, cpu=0.0, timed_out=False):
    return _spawn.Outcome(stdout=stdout, stderr=b"some stderr", exit_status=exit_status,
                          signal=sig, cpu_seconds=cpu, wall_seconds=0.1, timed_out=timed_out,
                          violation=None)


PROBE = _request.make_request("probe", timeout=2)


@pytest.mark.parametrize(
    "run, exc",
    [
        (outcome(M.error(1), 1), BadInputError),
        (outcome(M.error(2), 1), UnsupportedFormatError),
        (outcome(M.error(3), 1), LimitExceededError),
        (outcome(M.error(4), 1), LimitExceededError),
        (outcome(M.error(5), 1), ExtractorError),
        (outcome(M.error(6), 1), ExtractorError),
        (outcome(M.error(7), 1), ExtractorError),
        (outcome(M.error(8), 1), SandboxUnavailable),
        (outcome(M.error(1), 0), ProtocolError),
        (outcome(M.meta(M.IMAGE_META), 1), ProtocolError),
        (outcome(M.meta(M.IMAGE_META), 3), ProtocolError),
        (outcome(b"", 0), ProtocolError),
        (outcome(b"", 127), ProtocolError),
        (outcome(M.meta(M.IMAGE_META), None, signal.SIGKILL), SandboxViolation),
        (outcome(b"", None, signal.SIGKILL, cpu=1.95), DecodeTimeout),
        (outcome(b"", None, signal.SIGXCPU, cpu=0.5), DecodeTimeout),
        (outcome(b"", None, signal.SIGSEGV), SandboxViolation),
        (outcome(b"", None, signal.SIGSYS), SandboxViolation),
        (outcome(b"", None, signal.SIGSYS, cpu=1.95), SandboxViolation),
        (outcome(M.meta(M.IMAGE_META), 0, timed_out=True), DecodeTimeout),
    ],
)
def test_judge(run, exc):
    with pytest.raises(exc) as info:
        _judge.judge(run, PROBE, "/x/sx-test")
    assert info.value.stderr == b"some stderr"
    assert "some stderr" in str(info.value)


def test_judge_accepts_and_exception_details():
    assert isinstance(_judge.judge(outcome(M.meta(M.IMAGE_META), 0), PROBE, "x"), _wire.MetaAnswer)
    with pytest.raises(BadInputError) as info:
        _judge.judge(outcome(M.error(1, b"bad \x1b[2J"), 1), PROBE, "x")
    assert info.value.status == 1 and info.value.detail == "bad \x1b[2J"
    assert "\x1b" not in str(info.value) and "BAD_INPUT" in str(info.value)
    with pytest.raises(SandboxViolation, match="SIGSEGV"):
        _judge.judge(outcome(b"", None, signal.SIGSEGV), PROBE, "x")


def test_judge_filter_kill_and_sandbox_refusal():
    # Under a container's filter the extractor's own filter kills with SIGSYS: the same
    # verdict as strict mode's SIGKILL, whatever the CPU time (RLIMIT_CPU never sends it).
    for sig in (signal.SIGKILL, signal.SIGSYS):
        with pytest.raises(SandboxViolation, match="forbidden system call") as info:
            _judge.judge(outcome(b"", None, sig), PROBE, "x")
        assert info.value.signal == sig
    # SANDBOX: an ExtractorError (not the file's fault) that says what to change.
    with pytest.raises(SandboxUnavailable) as info:
        _judge.judge(outcome(M.error(8, b"cannot read the seccomp mode"), 1), PROBE, "x")
    assert isinstance(info.value, ExtractorError) and info.value.status == 8
    assert info.value.detail.startswith("cannot read the seccomp mode; ")
    assert "allow prctl" in info.value.detail and "Containers and services" in info.value.detail


# ---- property tests: only validated results or DecodeError ----------------------------

expects = st.one_of(
    st.just(META),
    st.builds(Expect, result=st.just(4), channels=st.sampled_from([3, 4]),
              box_width=st.integers(1, 40), box_height=st.integers(1, 40),
              max_pixels=st.integers(1, 2000), frames=st.integers(1, 6)),
    st.builds(Expect, result=st.just(3), channels=st.sampled_from([3, 4]),
              box_width=st.integers(0, 40), box_height=st.integers(0, 40),
              max_pixels=st.integers(1, 2000)).map(
        lambda e: e if bool(e.box_width) == bool(e.box_height)
        else Expect(e.result, e.channels, 0, 0, e.max_pixels)),
)

keys = st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True).map(str.encode)
values = st.one_of(
    st.tuples(st.just(1), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(2), st.floats(allow_nan=False, allow_infinity=False)),
    st.tuples(st.just(3), st.text(max_size=40)),
    st.tuples(st.just(4), st.integers(0, 1)),
)


@st.composite
def valid_messages(draw):
    kind = draw(st.sampled_from(["error", "meta", "image", "frames"]))
    if kind == "error":
        return META, M.error(draw(st.integers(1, 7)), draw(st.text(max_size=60)).encode()[:256])
    if kind == "meta":
        others = draw(st.dictionaries(keys, values, max_size=8))
        others.pop(b"format", None)
        fields = [(b"format", 3, draw(st.text(min_size=1, max_size=10)))]
        fields += [(k, vt, v) for k, (vt, v) in others.items()]
        return META, M.meta(fields)
    channels = draw(st.sampled_from([3, 4]))
    w, h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    expect = Expect(result=3, channels=channels, box_width=w + draw(st.integers(0, 2)),
                    box_height=h + draw(st.integers(0, 2)), max_pixels=w * h + draw(st.integers(0, 5)))
    if kind == "frames":
        n = draw(st.integers(1, 4))
        durations = draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n))
        expect = Expect(result=4, channels=channels, box_width=w + draw(st.integers(0, 2)),
                        box_height=h + draw(st.integers(0, 2)),
                        max_pixels=n * w * h + draw(st.integers(0, 5)), frames=n + draw(st.integers(0, 2)))
        return expect, M.frames(w, h, durations, channels, loop=draw(st.integers(0, 2**32 - 1)))
    return expect, M.image(w, h, channels)


def mutate(data: bytes, draw) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "extend", "u8", "u16", "u32", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del buf[pos:]
        elif op == "extend":
            buf += draw(st.binary(min_size=1, max_size=20))
        elif op in ("u8", "u16", "u32"):
            size = {"u8": 1, "u16": 2, "u32": 4}[op]
            # Often aim at the length fields: payload_length, status/detail_len, counts.
            pos = draw(st.sampled_from([pos, 8, 12, 14, 16, 20]))
            value = draw(st.integers(0, 2 ** (8 * size) - 1) | st.sampled_from([0, 1, 2 ** (8 * size) - 1]))
            buf[pos:pos + size] = value.to_bytes(size, "little")
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and buf:
            del buf[pos:pos + draw(st.integers(1, 4))]
    return bytes(buf)


def check_validated(answer, expect: Expect, data: bytes) -> None:
    """Independent restatement of PROTOCOL.md for whatever the parser accepted."""
    assert data[:4] == b"SXAN" and data[4:6] == b"\x03\x00"
    assert len(data) == 12 + int.from_bytes(data[8:12], "little")
    if isinstance(answer, _wire.ErrorAnswer):
        assert 1 <= answer.status <= 7 and len(answer.detail.encode()) <= 256
    elif isinstance(answer, _wire.MetaAnswer):
        assert expect.result == 2 and len(data) - 12 <= 65536
        assert 1 <= len(answer.fields) <= 64 and isinstance(answer.fields["format"], str)
        for key, value in answer.fields.items():
            assert 1 <= len(key) <= 32 and key.isascii()
            assert isinstance(value, (int, float, str, bool))
            if isinstance(value, float):
                assert math.isfinite(value)
            if isinstance(value, str):
                assert len(value.encode()) <= 1024
    elif isinstance(answer, _wire.FramesAnswer):
        assert expect.result == 4 and answer.channels == expect.channels
        n = int.from_bytes(data[24:28], "little")
        assert 1 <= n == len(answer.durations) <= expect.frames
        assert answer.width >= 1 and answer.height >= 1
        assert n * answer.width * answer.height <= expect.max_pixels
        if expect.box_width:
            assert answer.width <= expect.box_width and answer.height <= expect.box_height
        size = answer.width * answer.height * answer.channels
        assert len(data) == 12 + 20 + n * (4 + size)
        for i in range(n):
            off = 32 + i * (4 + size)
            assert answer.durations[i] == int.from_bytes(data[off:off + 4], "little")
            assert bytes(answer.frame(i)) == data[off + 4:off + 4 + size]
    else:
        assert isinstance(answer, _wire.ImageAnswer) and expect.result == 3
        assert answer.width >= 1 and answer.height >= 1 and answer.channels == expect.channels
        assert answer.width * answer.height <= expect.max_pixels
        if expect.box_width:
            assert answer.width <= expect.box_width and answer.height <= expect.box_height
        assert len(answer.pixels) == answer.width * answer.height * answer.channels
        assert bytes(answer.pixels) == data[24:]


def parse_or_decode_error(data: bytes, expect: Expect) -> None:
    try:
        answer = _wire.parse_answer(data, expect)
    except DecodeError:
        return
    check_validated(answer, expect, data)
    if isinstance(answer, _wire.MetaAnswer):
        try:
            _api.metadata_from_answer(_api.STREAM_IMAGE, answer)
        except DecodeError:
            pass


PROPERTY = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=300), expects)
def test_random_bytes(data, expect):
    parse_or_decode_error(data, expect)


@PROPERTY
@given(st.binary(max_size=200), expects)
def test_random_payload_behind_valid_header(payload, expect):
    for mtype in (1, 2, 3):
        parse_or_decode_error(M.message(mtype, payload), expect)


@PROPERTY
@given(valid_messages())
def test_valid_messages_parse(sample):
    expect, data = sample
    check_validated(_wire.parse_answer(data, expect), expect, data)


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_messages(), st.data())
def test_mutated_messages(sample, data):
    expect, message = sample
    parse_or_decode_error(mutate(message, data.draw), expect)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_messages(), st.data(), st.sampled_from([None, 0, 1, 2, 3, 127]),
       st.sampled_from([None, signal.SIGKILL, signal.SIGSEGV, signal.SIGXCPU]))
def test_judge_only_raises_decode_error(sample, data, exit_status, sig):
    expect, message = sample
    if data.draw(st.booleans()):
        message = mutate(message, data.draw)
    if expect.result == 2:
        request = PROBE
    else:
        request = _request.Request(mode="thumbnail" if expect.box_width else "full",
                               box=(expect.box_width, expect.box_height) if expect.box_width else None,
                               channels=expect.channels, max_pixels=expect.max_pixels,
                               max_input_bytes=1000, memory=16 << 20, cpu_seconds=1, timeout=1.0)
    run = outcome(message, exit_status, sig, cpu=data.draw(st.floats(0, 2)))
    try:
        answer = _judge.judge(run, request, "x")
    except DecodeError:
        return
    assert sig is None and exit_status == 0 and not isinstance(answer, _wire.ErrorAnswer)
    check_validated(answer, expect, message)


# ---- frames (type 4, version 3) ---------------------------------------------------------


def test_frames_message():
    answer = parse(M.frames(4, 3, [100, 0, 70], loop=2), FRAMES)
    assert isinstance(answer, _wire.FramesAnswer)
    assert (answer.width, answer.height, answer.channels, answer.loop_count) == (4, 3, 4, 2)
    assert answer.durations == (100, 0, 70)
    for i in range(3):
        assert bytes(answer.frame(i)) == bytes([(i * 7 + k) & 255 for k in range(48)])
    images = _api.frames_from_answer(answer)
    assert [im.info["duration"] for im in images] == [100, 0, 70]
    assert {im.info["loop"] for im in images} == {2} and images[2].size == (4, 3)
    assert images[1].tobytes() == bytes(answer.frame(1))
    auto = Expect(result=_wire.TYPE_FRAMES, channels=_wire.LAYOUT_AUTO, frames=2)
    assert parse(M.frames(2, 2, [1, 2], channels=3), auto).channels == 3


@pytest.mark.parametrize("message, match", [
    (M.frames(4, 3, [10, 20], frame_bytes=47), "need"),           # each frame a byte short
    (M.frames(4, 3, [10, 20], frame_bytes=49), "need"),           # a byte too many
    (M.frames(4, 3, [10, 20], trailing=b"\0"), "need"),           # a byte after the frames
    (M.frames(4, 3, [10, 20], count=3), "need"),                  # count over the frames sent
    (M.frames(4, 3, [10, 20], count=1), "need"),                  # count under them
    (M.frames(4, 3, [10] * 6), "payload length|frames, 1..5"),    # more frames than asked
    (M.frames(4, 3, [], count=0), "payload length|frames, 1..5"),  # none
    (M.frames(0, 3, [10]), "0x3|payload length"),
    (M.frames(17, 1, [10]), "box"),                                # wider than the box
    (M.frames(4, 3, [10], channels=3), "channels"),
    (M.frames(4, 3, [10], reserved=b"\0\1\0"), "reserved"),
    (M.frames(4, 3, [10], count=2**32 - 1), "frames, 1..5|payload length|need"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_forged_frames_are_refused(message, match):
    rejects(message, FRAMES, match=match)


def test_frames_over_the_pixel_cap_are_refused():
    small = Expect(result=_wire.TYPE_FRAMES, channels=4, max_pixels=100, frames=5)
    assert len(parse(M.frames(5, 5, [1, 2, 3, 4]), small).durations) == 4  # 100 pixels
    rejects(M.frames(5, 5, [1, 2, 3, 4, 5]), small, match="cap of 100 pixels|payload length")


def test_frames_header_lengths_are_bounded_before_reading():
    # A header announcing more than the request can ever receive is refused on its 12 bytes.
    huge = M.message(4, b"", length=2**32 - 1)
    with pytest.raises(ProtocolError, match="payload length"):
        _wire.message_length(huge[:12], FRAMES)
    assert _wire.message_length(M.frames(4, 3, [1])[:12], FRAMES) == 12 + 20 + 4 + 48
