"""Paths shared by the client's tests (a plain module: `conftest` names clash across
test directories)."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
BUILD_BIN = REPO / "build" / "bin"
ENV_VAR = "SANDBOX_EXTRACTOR_BIN_DIR"

if str(REPO / "pyclient") not in sys.path:
    sys.path.insert(0, str(REPO / "pyclient"))
