"""Shared setup for the client's tests: import the package from this checkout, find the
built extractors, and skip (loudly) the end-to-end tests only when build/bin is missing.

Execution mode: `extractors` pins $SANDBOX_EXTRACTOR_MODE to "oneshot", so a test that
counts child processes and fds sees exactly the ones its calls made; tests that take the
`execution` fixture run once per mode ("oneshot", "server") with the variable set to it.
Every zygote a test started is shut down (and reaped) when it ends."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sxtest_paths import BUILD_BIN, ENV_VAR  # noqa: E402  (also puts pyclient/ on sys.path)


def _bin_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else BUILD_BIN


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    """The directory holding sx-image and sx-selftest. Skips only when it does not exist;
    a build directory that lacks a binary fails the tests that need it."""
    directory = _bin_dir()
    if not directory.is_dir():
        pytest.skip(
            f"extractors not built: {directory} does not exist "
            "(run scripts/bootstrap.sh, or set "
            f"{ENV_VAR}); end-to-end tests skipped"
        )
    for name in ("sx-image", "sx-selftest"):
        assert (directory / name).is_file(), f"{directory / name} is missing from the build"
    return directory


@pytest.fixture
def extractors(bin_dir, monkeypatch):
    """Points the client at the built extractors for one test, in one-shot mode unless the
    test asks for `execution`."""
    from sandbox_extractor import _runner, _zygote

    monkeypatch.setenv(ENV_VAR, str(bin_dir))
    monkeypatch.setenv(_runner.ENV_MODE, "oneshot")
    yield bin_dir
    _zygote.shutdown()


@pytest.fixture(params=["oneshot", "server"])
def execution(request, extractors, monkeypatch):
    """Runs the test in each execution mode: the mode's name, also set in the environment
    so that calls without an explicit `execution` use it."""
    from sandbox_extractor import _runner, _zygote

    monkeypatch.setenv(_runner.ENV_MODE, request.param)
    served = _zygote.requests_served
    yield request.param
    _zygote.shutdown()
    if request.param == "server":
        assert _zygote.requests_served > served, "server mode, but no request reached a zygote"
