"""Finding the extractor binaries.

Order: $SANDBOX_EXTRACTOR_BIN_DIR alone when it is set; otherwise, when this package runs
from a source checkout, its CMake build (<repo>/build/bin, found from this file's
location), then the installed layouts <sys.prefix>/libexec/sandbox-extractor,
/usr/local/libexec/sandbox-extractor and /usr/libexec/sandbox-extractor. Looked up on every call (a few stat calls) so a changed
environment takes effect at once.
"""

from __future__ import annotations

import os
import sys

from ._errors import ExtractorUnavailable

ENV_VAR = "SANDBOX_EXTRACTOR_BIN_DIR"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_CHECKOUT_BIN = os.path.normpath(os.path.join(_PACKAGE_DIR, os.pardir, os.pardir, "build", "bin"))
# pyclient/pyproject.toml beside the package: running from a source checkout (or an
# editable install of one), not from site-packages.
_IN_CHECKOUT = os.path.isfile(os.path.join(_PACKAGE_DIR, os.pardir, "pyproject.toml"))


def search_dirs() -> list[str]:
    """Directories searched, in order."""
    override = os.environ.get(ENV_VAR)
    if override:
        return [os.path.abspath(override)]
    dirs = [_CHECKOUT_BIN] if _IN_CHECKOUT else []
    dirs += [
        os.path.join(sys.prefix, "libexec", "sandbox-extractor"),
        "/usr/local/libexec/sandbox-extractor",
        "/usr/libexec/sandbox-extractor",
    ]
    unique: list[str] = []
    for d in dirs:
        d = os.path.normpath(d)
        if d not in unique:
            unique.append(d)
    return unique


def find_extractor(name: str, what: str | None = None) -> str:
    """Absolute path of the executable `name`, or ExtractorUnavailable naming every path
    looked at. `what` names the caller's kind in the message (e.g. "STREAM_VIDEO")."""
    tried = []
    for directory in search_dirs():
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        tried.append(path)
    subject = f"extractor {name!r}" + (f" for {what}" if what else "")
    hint = f"build it with CMake, install it, or set {ENV_VAR}"
    if os.environ.get(ENV_VAR):
        hint = f"{ENV_VAR} is set, so only that directory was searched"
    raise ExtractorUnavailable(
        f"{subject} is not available; looked for: {', '.join(tried)} ({hint})"
    )
