"""Every sx-selftest misbehaviour maps to the right outcome, through the real client path,
in both execution modes: one process per call, and through the fork server (the
`execution` fixture runs each test once per mode), with the same exception either way."""

import signal
import time

import pytest

from sandbox_extractor import _request, _runner
from sandbox_extractor import (
    DecodeTimeout,
    ExtractorError,
    LimitExceededError,
    ProtocolError,
    SandboxViolation,
)
from sandbox_extractor import _api, _wire
from sxtest_paths import SANDBOX_KILL


def selftest(word: bytes, mode: str = "probe", **kw):
    kw.setdefault("timeout", 10)
    request = _request.make_request(mode, **kw)
    return _runner.run_extractor("sx-selftest", request, word)


def test_ok_meta(execution):
    answer = selftest(b"ok-meta")
    assert isinstance(answer, _wire.MetaAnswer) and answer.fields["format"] == "selftest"


def test_ok_image(execution):
    answer = selftest(b"ok-image\n", "full")
    assert (answer.width, answer.height, answer.channels) == (2, 2, 4)
    image = _api.image_from_answer(answer)
    assert image.mode == "RGBA" and image.size == (2, 2)
    assert image.tobytes() == bytes(answer.pixels)


def test_ok_image_outside_the_request_is_refused(execution):
    with pytest.raises(ProtocolError, match="box|payload length"):
        selftest(b"ok-image", "thumbnail", size=1)
    with pytest.raises(ProtocolError, match="channels|payload length"):
        selftest(b"ok-image", "full", image_mode="RGB")
    with pytest.raises(ProtocolError, match="pixels|payload length"):
        selftest(b"ok-image", "full", max_pixels=3)
    with pytest.raises(ProtocolError, match="not a valid answer"):
        selftest(b"ok-image", "probe")
    with pytest.raises(ProtocolError, match="not a valid answer"):
        selftest(b"ok-meta", "full")


@pytest.mark.parametrize("word", [b"open", b"socket", b"mmap", b"exit_group"])
def test_forbidden_syscall_is_a_sandbox_violation(execution, word):
    with pytest.raises(SandboxViolation, match=SANDBOX_KILL.name) as info:
        selftest(word)
    assert info.value.signal == SANDBOX_KILL and info.value.status is None


def test_spin_is_a_cpu_timeout(execution):
    start = time.monotonic()
    with pytest.raises(DecodeTimeout, match="CPU time") as info:
        selftest(b"spin", timeout=10, cpu_seconds=1)
    assert info.value.signal == signal.SIGKILL
    assert time.monotonic() - start < 5


def test_spin_with_a_shorter_wall_clock_is_a_wall_timeout(execution):
    start = time.monotonic()
    with pytest.raises(DecodeTimeout, match="wall-clock"):
        selftest(b"spin", timeout=0.3, cpu_seconds=5)
    assert time.monotonic() - start < 2


def test_alloc_is_no_memory(execution):
    with pytest.raises(LimitExceededError) as info:
        selftest(b"alloc", memory=16 << 20)
    assert info.value.status == _wire.Status.NO_MEMORY


def test_segv_is_a_crash(execution):
    with pytest.raises(SandboxViolation, match="SIGSEGV") as info:
        selftest(b"segv")
    assert info.value.signal == signal.SIGSEGV


@pytest.mark.parametrize(
    "word, mode, match",
    [
        (b"garbage", "probe", "magic|truncated|no answer"),
        (b"truncated", "probe", "truncated"),
        (b"trailing", "probe", "trailing"),
        (b"wrong-exit", "probe", "exit status"),
        (b"huge-image", "full", "payload length|exceeds|needs"),
        (b"huge-image", "thumbnail", "payload length|exceeds|needs"),
    ],
)
def test_malformed_answers_are_protocol_errors(execution, word, mode, match):
    kw = {"size": 64} if mode == "thumbnail" else {}
    with pytest.raises(ProtocolError, match=match):
        selftest(word, mode, **kw)


def test_env_is_empty_and_only_012_are_open(execution):
    fields = selftest(b"env").fields
    assert fields["env_count"] == 0 and fields["fds_at_start"] == "0,1,2"


def test_no_fd_is_readable_after_the_strict_line(execution):
    assert selftest(b"readfds").fields["readable_fds"] == ""


def test_stderr_flood_still_answers(execution):
    assert selftest(b"stderr-flood").fields["format"] == "selftest"


def test_unknown_word_is_a_bad_request(execution):
    with pytest.raises(ExtractorError) as info:
        selftest(b"no-such-word")
    assert info.value.status == _wire.Status.BAD_REQUEST
