"""Typed, immutable metadata built from a validated metadata answer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Union

from ._errors import ProtocolError

MetaValue = Union[int, float, str, bool]

_EMPTY: Mapping[str, MetaValue] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What an extractor reported about its input, without pixels.

    `format` is always there (e.g. "jpeg", "png"). Fields this client version does not
    know are kept, with their wire types, in the read-only mapping `extra`.
    """

    format: str
    extra: Mapping[str, MetaValue] = field(default_factory=lambda: _EMPTY, hash=False)

    # key -> (type, validator or None); subclasses extend it.
    _SCHEMA = {"format": (str, None)}

    def as_dict(self) -> dict[str, MetaValue]:
        """Every reported field, known and extra, as a plain dict (None values left out)."""
        out: dict[str, MetaValue] = {}
        for f in dataclasses.fields(self):
            if f.name != "extra":
                value = getattr(self, f.name)
                if value is not None:
                    out[f.name] = value
        out.update(self.extra)
        return out

    def __reduce__(self):
        # A mappingproxy does not pickle: rebuild from a plain dict.
        state = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        state["extra"] = dict(self.extra)
        return (_rebuild, (type(self), state))

    @classmethod
    def _from_fields(cls, fields: Mapping[str, MetaValue]):
        known = {}
        extra = {}
        for key, value in fields.items():
            spec = cls._SCHEMA.get(key)
            if spec is None:
                extra[key] = value
                continue
            wanted, check = spec
            # bool is a subclass of int in Python, but not on the wire: compare exact types.
            if type(value) is not wanted:
                raise ProtocolError(
                    f"metadata field {key!r} is {type(value).__name__}, expected {wanted.__name__}"
                )
            if check is not None and not check(value):
                raise ProtocolError(f"metadata field {key!r} has an invalid value {value!r}")
            known[key] = value
        missing = [
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in known
            and f.name != "extra"
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ProtocolError(f"metadata lacks required field(s) {', '.join(missing)}")
        return cls(**known, extra=MappingProxyType(extra))


def _rebuild(cls, state):
    state = dict(state)
    state["extra"] = MappingProxyType(dict(state["extra"]))
    return cls(**state)


def _positive_u32(v: int) -> bool:
    return 1 <= v <= 0xFFFFFFFF


@dataclass(frozen=True, kw_only=True)
class ImageInfo(Metadata):
    """Metadata of an image (STREAM_IMAGE). width and height are as stored in the file,
    before EXIF orientation; display_size applies it."""

    width: int
    height: int
    bit_depth: int | None = None
    color_type: str | None = None
    has_alpha: bool | None = None
    progressive: bool | None = None
    orientation: int = 1
    arithmetic: bool | None = None

    _SCHEMA = {
        "format": (str, None),
        "width": (int, _positive_u32),
        "height": (int, _positive_u32),
        "bit_depth": (int, lambda v: 1 <= v <= 64),
        "color_type": (str, None),
        "has_alpha": (bool, None),
        "progressive": (bool, None),
        "orientation": (int, lambda v: 1 <= v <= 8),
        "arithmetic": (bool, None),
    }

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) once EXIF orientation is applied, as load_image returns it."""
        if self.orientation >= 5:
            return (self.height, self.width)
        return (self.width, self.height)
