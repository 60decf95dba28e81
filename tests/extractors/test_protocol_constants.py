"""test_protocol_constants.py: PROTOCOL.md's tables are the contract; the C constants
(common/sx_wire.h, sx_status.h, sx_limits.h) and the Python client's constants
(pyclient/sandbox_extractor/_wire.py) must both equal them. Needs no build."""
import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "build" / "bin"
sys.path.insert(0, str(ROOT / "pyclient"))

from sandbox_extractor import _wire  # noqa: E402

PROTOCOL = (ROOT / "PROTOCOL.md").read_text()


# ---- reading PROTOCOL.md ----------------------------------------------------------------


def section(heading: str) -> str:
    """Text from the heading line starting with `heading` to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}.*?$(.*?)(?=^#+ |\Z)", PROTOCOL, re.M | re.S)
    assert match, f"PROTOCOL.md has no section {heading!r}"
    return match.group(0)


def table(heading: str) -> list[dict[str, str]]:
    """The first Markdown table in a section, as dicts keyed by the header cells."""
    lines = [l.strip() for l in section(heading).splitlines() if l.strip().startswith("|")]
    assert len(lines) >= 3, f"no table under {heading!r}"
    cells = [[c.strip() for c in l.strip("|").split("|")] for l in lines]
    header, rows = cells[0], cells[2:]
    return [dict(zip(header, row)) for row in rows]


def row(rows, column: str, value: str) -> dict[str, str]:
    found = [r for r in rows if r[column].strip("`") == value]
    assert len(found) == 1, f"expected one row with {column} == {value!r}"
    return found[0]


def coded(text: str) -> dict[str, int]:
    """'`1` error, `2` metadata' -> {'error': 1, 'metadata': 2}."""
    return {name: int(code) for code, name in re.findall(r"`(\d+)`\s+(\w+)", text)}


def at_most(text: str) -> int:
    match = re.search(r"at most (\d+)", text)
    assert match, f"no 'at most N' in {text!r}"
    return int(match.group(1))


def doc_constants() -> dict:
    doc = {}
    header = table("Header")
    doc["HEADER_BYTES"] = int(re.search(r"^## Header \((\d+) bytes\)", PROTOCOL, re.M).group(1))
    assert sum(int(r["size"]) for r in header) == doc["HEADER_BYTES"]
    doc["MAGIC"] = re.search(r"ASCII `(\w{4})`", row(header, "field", "magic")["value"]).group(1)
    doc["VERSION"] = int(row(header, "field", "version")["value"].strip("`"))
    types = coded(row(header, "field", "type")["value"])
    doc["TYPE_ERROR"], doc["TYPE_META"], doc["TYPE_IMAGE"], doc["TYPE_FRAMES"] = (
        types["error"], types["metadata"], types["image"], types["frames"])
    assert re.search(r"^# .*version (\d+)", PROTOCOL, re.M).group(1) == str(doc["VERSION"])

    error = table("Error payload")
    detail = row(error, "field", "detail")
    doc["ERROR_FIXED_BYTES"] = int(detail["offset"])
    doc["DETAIL_MAX"] = at_most(row(error, "field", "detail_len")["notes"])
    fixed = re.search(r"`payload_length == (\d+) \+ detail_len`", section("Error payload"))
    assert int(fixed.group(1)) == doc["ERROR_FIXED_BYTES"]

    doc["STATUS"] = {r["name"]: int(r["code"]) for r in table("Status codes")}

    meta = section("Metadata payload")
    doc["META_MAX_FIELDS"] = at_most(row(table("Metadata payload"), "field", "field_count")["notes"])
    fields = re.search(r"Each field:(.*?)(?=\n\n[^|])", meta, re.S).group(1)
    field_rows = [[c.strip() for c in l.strip().strip("|").split("|")]
                  for l in fields.splitlines() if l.strip().startswith("|")][2:]
    by_field = {cells[1]: cells for cells in field_rows}
    doc["META_KEY_MAX"] = int(re.search(r"1\.\.(\d+)", by_field["key_len"][2]).group(1))
    vtypes = coded(by_field["vtype"][2])
    doc["VTYPE_INT"], doc["VTYPE_FLOAT"] = vtypes["int"], vtypes["float"]
    doc["VTYPE_STRING"], doc["VTYPE_BOOL"] = vtypes["string"], vtypes["bool"]
    doc["META_STRING_MAX"] = at_most(by_field["string"][2])
    doc["META_MAX_BYTES"] = int(re.search(r"whole payload is at most (\d+) bytes", meta).group(1))
    assert re.search(r"string field `format`", meta)

    image = table("Image payload")
    doc["IMAGE_FIXED_BYTES"] = int(row(image, "field", "pixels")["offset"])
    layouts = re.findall(r"`(\d+)` (RGBA|RGB)", row(image, "field", "channels")["notes"])
    doc["LAYOUT_RGB"] = int(dict((n, c) for c, n in layouts)["RGB"])
    doc["LAYOUT_RGBA"] = int(dict((n, c) for c, n in layouts)["RGBA"])
    fixed = re.search(r"`payload_length == (\d+) \+ width \* height \* channels`",
                      section("Image payload"))
    assert int(fixed.group(1)) == doc["IMAGE_FIXED_BYTES"]

    frames = table("Frames payload (type 4, version 3)")
    doc["FRAMES_FIXED_BYTES"] = int(row(frames, "field", "frames")["offset"])
    fixed = re.search(r"`payload_length == (\d+) \+ frame_count \* \((\d+) \+ width \* height "
                      r"\* channels\)`", section("Frames payload (type 4, version 3)"))
    assert int(fixed.group(1)) == doc["FRAMES_FIXED_BYTES"]
    doc["FRAME_HEAD_BYTES"] = int(fixed.group(2))
    doc["FRAMES_MAX"] = int(re.search(r"`--frames N` \(1 to (\d+), `SX_FRAMES_MAX`\)",
                                      section("Frames payload (type 4, version 3)")).group(1))

    exits = table("Exit status")
    doc["EXIT_RESULT"] = int(next(r["exit"] for r in exits if "metadata, image or frames" in r["meaning"]))
    doc["EXIT_ERROR"] = int(next(r["exit"] for r in exits if "error message" in r["meaning"]))
    return doc


DOC = doc_constants()


# ---- reading the C headers ----------------------------------------------------------------


def c_value(expr: str):
    """Evaluates a constant expression from a header: literals with u/U suffixes, casts
    to fixed-width integer types, <<, |, +, *, parentheses."""
    expr = re.sub(r"\((?:u?int\d+_t|size_t|unsigned)\)", "", expr)
    expr = re.sub(r"(?<=\d)[uU][lL]{0,2}\b|(?<=\d)[lL]{1,2}[uU]?\b", "", expr)
    node = ast.parse(expr.strip(), mode="eval").body

    def ev(n):
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, str)):
            return n.value
        if isinstance(n, ast.BinOp):
            ops = {ast.LShift: lambda a, b: a << b, ast.BitOr: lambda a, b: a | b,
                   ast.Add: lambda a, b: a + b, ast.Mult: lambda a, b: a * b}
            return ops[type(n.op)](ev(n.left), ev(n.right))
        raise ValueError(f"unsupported expression {expr!r}")

    return ev(node)


def c_defines(*names: str) -> dict:
    values = {}
    for name in names:
        text = (ROOT / "common" / name).read_text()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for macro, expr in re.findall(r"^#define[ \t]+(SX_\w+)[ \t]+([^\n]+?)[ \t]*$", text, re.M):
            values[macro] = c_value(expr)
        for member, number in re.findall(r"^\s*(SX_\w+)\s*=\s*(\d+)\s*,", text, re.M):
            values[member] = int(number)
    return values


C = c_defines("sx_wire.h", "sx_status.h", "sx_limits.h")

# PROTOCOL.md name -> (C name, Python name)
PAIRS = {
    "MAGIC": ("SX_WIRE_MAGIC", "MAGIC"),
    "VERSION": ("SX_WIRE_VERSION", "VERSION"),
    "HEADER_BYTES": ("SX_WIRE_HEADER_BYTES", "HEADER_BYTES"),
    "TYPE_ERROR": ("SX_WIRE_TYPE_ERROR", "TYPE_ERROR"),
    "TYPE_META": ("SX_WIRE_TYPE_META", "TYPE_META"),
    "TYPE_IMAGE": ("SX_WIRE_TYPE_IMAGE", "TYPE_IMAGE"),
    "TYPE_FRAMES": ("SX_WIRE_TYPE_FRAMES", "TYPE_FRAMES"),
    "FRAMES_FIXED_BYTES": ("SX_WIRE_FRAMES_FIXED_BYTES", "FRAMES_FIXED_BYTES"),
    "FRAME_HEAD_BYTES": ("SX_WIRE_FRAME_HEAD_BYTES", "FRAME_HEAD_BYTES"),
    "FRAMES_MAX": ("SX_FRAMES_MAX", "FRAMES_MAX"),
    "ERROR_FIXED_BYTES": ("SX_WIRE_ERROR_FIXED_BYTES", "ERROR_FIXED_BYTES"),
    "IMAGE_FIXED_BYTES": ("SX_WIRE_IMAGE_FIXED_BYTES", "IMAGE_FIXED_BYTES"),
    "VTYPE_INT": ("SX_WIRE_VTYPE_INT", "VTYPE_INT"),
    "VTYPE_FLOAT": ("SX_WIRE_VTYPE_FLOAT", "VTYPE_FLOAT"),
    "VTYPE_STRING": ("SX_WIRE_VTYPE_STRING", "VTYPE_STRING"),
    "VTYPE_BOOL": ("SX_WIRE_VTYPE_BOOL", "VTYPE_BOOL"),
    "LAYOUT_RGB": ("SX_WIRE_LAYOUT_RGB", "LAYOUT_RGB"),
    "LAYOUT_RGBA": ("SX_WIRE_LAYOUT_RGBA", "LAYOUT_RGBA"),
    "EXIT_RESULT": ("SX_EXIT_RESULT", "EXIT_RESULT"),
    "EXIT_ERROR": ("SX_EXIT_ERROR", "EXIT_ERROR"),
    "DETAIL_MAX": ("SX_DETAIL_MAX", "DETAIL_MAX"),
    "META_MAX_FIELDS": ("SX_META_MAX_FIELDS", "META_MAX_FIELDS"),
    "META_KEY_MAX": ("SX_META_KEY_MAX", "META_KEY_MAX"),
    "META_STRING_MAX": ("SX_META_STRING_MAX", "META_STRING_MAX"),
    "META_MAX_BYTES": ("SX_META_MAX_BYTES", "META_MAX_BYTES"),
}


def test_document_has_the_expected_shape():
    # Guards the parser above: these are the numbers PROTOCOL.md version 3 states.
    assert DOC["MAGIC"] == "SXAN" and DOC["VERSION"] == 3 and DOC["HEADER_BYTES"] == 12
    assert (DOC["TYPE_FRAMES"], DOC["FRAMES_FIXED_BYTES"], DOC["FRAME_HEAD_BYTES"],
            DOC["FRAMES_MAX"]) == (4, 20, 4, 1000)
    assert (DOC["DETAIL_MAX"], DOC["META_MAX_FIELDS"], DOC["META_KEY_MAX"],
            DOC["META_STRING_MAX"], DOC["META_MAX_BYTES"]) == (256, 64, 32, 1024, 65536)
    assert len(DOC["STATUS"]) == 9


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_constant_matches_c_and_python(name):
    c_name, py_name = PAIRS[name]
    doc = DOC[name]
    c = C[c_name]
    py = getattr(_wire, py_name)
    if name == "MAGIC":
        py = py.decode("ascii")
    assert doc == c == py, f"{name}: PROTOCOL.md {doc!r}, C {c_name} {c!r}, Python {py!r}"


def test_status_codes():
    python = {s.name: int(s) for s in _wire.Status}
    c = {name: C["SX_OK" if name == "OK" else f"SX_ERR_{name}"] for name in DOC["STATUS"]}
    c_all = {k for k in C if k == "SX_OK" or k.startswith("SX_ERR_")}
    assert DOC["STATUS"] == python == c
    assert len(c_all) == len(DOC["STATUS"]), "the C enum has codes PROTOCOL.md lacks"
    assert len(set(DOC["STATUS"].values())) == len(DOC["STATUS"]), "a status code is reused"


def test_one_release_version_for_extractors_wire_and_package():
    """The release number in C, in the Python package and in pyproject.toml is one number,
    and the extractors print it, with the wire version, for --version."""
    import subprocess

    import sandbox_extractor

    c_release = re.search(r'#define SX_RELEASE_VERSION "([^"]+)"',
                          (ROOT / "common" / "sx_wire.h").read_text()).group(1)
    toml = re.search(r'^version = "([^"]+)"', (ROOT / "pyclient" / "pyproject.toml").read_text(),
                     re.M).group(1)
    assert c_release == _wire.RELEASE == sandbox_extractor.__version__ == toml
    for name in ("sx-image", "sx-video", "sx-font", "sx-lua"):
        out = subprocess.run([str(BIN / name), "--version"], capture_output=True, text=True,
                             check=True).stdout
        assert out == f"{name} {c_release} (wire {_wire.VERSION}, fork server 1)\n"


def test_exit_status_without_answer_is_neither_result_nor_error():
    assert C["SX_EXIT_NO_ANSWER"] not in (DOC["EXIT_RESULT"], DOC["EXIT_ERROR"])


@pytest.mark.parametrize(
    "c_name, py_name",
    [
        ("SX_PIXELS_DEFAULT", "PIXELS_DEFAULT"),
        ("SX_PIXELS_MAX", "PIXELS_MAX"),
        ("SX_INPUT_DEFAULT_BYTES", "INPUT_DEFAULT_BYTES"),
        ("SX_INPUT_MAX_BYTES", "INPUT_MAX_BYTES"),
        ("SX_POOL_DEFAULT_BYTES", "POOL_DEFAULT_BYTES"),
        ("SX_POOL_MIN_BYTES", "POOL_MIN_BYTES"),
        ("SX_POOL_RESERVE_BYTES", "POOL_RESERVE_BYTES"),
        ("SX_BOX_MAX_SIDE", "BOX_MAX_SIDE"),
        ("SX_CPU_SECONDS_DEFAULT", "CPU_SECONDS_DEFAULT"),
        ("SX_CPU_SECONDS_MAX", "CPU_SECONDS_MAX"),
    ],
)
def test_request_limits_match_c(c_name, py_name):
    # Not wire constants, but the client validates its keyword arguments against them.
    assert C[c_name] == getattr(_wire, py_name)
