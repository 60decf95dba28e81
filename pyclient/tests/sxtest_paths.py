"""Paths shared by the client's tests (a plain module: `conftest` names clash across
test directories)."""

import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
BUILD_BIN = REPO / "build" / "bin"
ENV_VAR = "SANDBOX_EXTRACTOR_BIN_DIR"



def _seccomp_mode() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    return 0


# The sandbox's kill: strict mode's SIGKILL, or SIGSYS when the tests run under a seccomp
# filter (in a container), where the extractors add an equivalent filter instead.
SANDBOX_KILL = signal.SIGSYS if _seccomp_mode() == 2 else signal.SIGKILL

if str(REPO / "pyclient") not in sys.path:
    sys.path.insert(0, str(REPO / "pyclient"))
