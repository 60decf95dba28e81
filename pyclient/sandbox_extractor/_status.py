"""Status codes of the extractors' error answers (PROTOCOL.md): a leaf module that the wire
parser and the exceptions both import, so neither imports the other for it."""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Status codes of error messages; fixed, never reused."""

    OK = 0
    BAD_INPUT = 1
    UNSUPPORTED = 2
    LIMIT = 3
    NO_MEMORY = 4
    IO = 5
    INTERNAL = 6
    BAD_REQUEST = 7
    SANDBOX = 8
