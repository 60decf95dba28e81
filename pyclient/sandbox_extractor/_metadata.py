"""Typed, immutable metadata built from a validated metadata answer: one class per kind.

Adding a field the extractor now sends is one annotated line (and its docstring) in the
kind's class: the wire type is taken from the annotation, a value check (optional) from
`_CHECKS`. A field annotated `list[str]` travels as one string, an item a line, and is
given as a list. A field the class does not declare is kept, with its wire type, in `extra`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping, TypeVar, Union

from ._errors import ProtocolError

MetaValue = Union[int, float, str, bool, list[str]]

_EMPTY: Mapping[str, MetaValue] = MappingProxyType({})

_M = TypeVar("_M", bound="Metadata")


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What an extractor reported about its input, without pixels.

    `format` is always there (e.g. "jpeg", "mp4", "truetype", "lua"). Fields this client
    version does not know are kept, with their wire types, in the read-only mapping
    `extra`; `as_dict()` gives every field, known and extra.
    """

    format: str
    """The format the extractor recognised, lower case."""
    extra: Mapping[str, MetaValue] = field(default_factory=lambda: _EMPTY, hash=False)
    """Fields this client version does not know, as the extractor sent them."""

    # Value checks beyond the wire type, by field name; subclasses extend it.
    _CHECKS: ClassVar[dict[str, Callable[[Any], bool]]] = {}

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

    def __reduce__(self) -> tuple[Any, ...]:
        # A mappingproxy does not pickle: rebuild from a plain dict.
        state = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        state["extra"] = dict(self.extra)
        return (_rebuild, (type(self), state))

    @classmethod
    def _schema(cls) -> dict[str, type]:
        """Field name -> its exact wire type, from the annotations."""
        return _schema_of(cls)

    @classmethod
    def _from_fields(cls: type[_M], fields: Mapping[str, MetaValue]) -> _M:
        schema = cls._schema()
        known: dict[str, MetaValue] = {}
        extra: dict[str, MetaValue] = {}
        for key, value in fields.items():
            wanted = schema.get(key)
            if wanted is None:
                extra[key] = value
                continue
            as_list = wanted is list
            if as_list:
                wanted = str  # one item a line on the wire
            # bool is a subclass of int in Python, but not on the wire: compare exact types.
            if type(value) is not wanted:
                raise ProtocolError(
                    f"metadata field {key!r} is {type(value).__name__}, expected {wanted.__name__}"
                )
            check = cls._CHECKS.get(key)
            if check is not None and not check(value):
                raise ProtocolError(f"metadata field {key!r} has an invalid value {value!r}")
            if as_list:
                assert isinstance(value, str)
                known[key] = value.split("\n") if value else []
            else:
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
        return cls(**known, extra=MappingProxyType(extra))  # type: ignore[arg-type]


_SCHEMAS: dict[type, dict[str, type]] = {}


def _schema_of(cls: type) -> dict[str, type]:
    cached = _SCHEMAS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    schema: dict[str, type] = {}
    for f in dataclasses.fields(cls):
        if f.name == "extra":
            continue
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        wire = args[0] if args else hint
        # list[str]: a list given, a string of lines on the wire (marked by `list`).
        schema[f.name] = list if typing.get_origin(wire) is list else wire
    _SCHEMAS[cls] = schema
    return schema


def _rebuild(cls: type[Metadata], state: dict[str, Any]) -> Metadata:
    state = dict(state)
    state["extra"] = MappingProxyType(dict(state["extra"]))
    return cls(**state)


def _positive_u32(v: int) -> bool:
    return 1 <= v <= 0xFFFFFFFF


def _non_negative(v: float) -> bool:
    return v >= 0


@dataclass(frozen=True, kw_only=True)
class ImageInfo(Metadata):
    """Metadata of an image (STREAM_IMAGE). width and height are as stored in the file,
    before EXIF orientation; display_size applies it. HEIC/AVIF (format "heic", "avif" or
    "heif", read by sx-heif): width and height are as displayed (irot, imir and clap
    applied, orientation 1: HEIF ignores EXIF orientation), stored_width/stored_height
    as coded."""

    width: int
    """Width in pixels as stored, before EXIF orientation."""
    height: int
    """Height in pixels as stored, before EXIF orientation."""
    bit_depth: int | None = None
    """Bits per sample (JPEG 8 or 12; PNG 1, 2, 4, 8 or 16)."""
    color_type: str | None = None
    """JPEG: gray, ycbcr, rgb, cmyk, ycck; PNG: gray, rgb, palette, gray_alpha, rgba."""
    has_alpha: bool | None = None
    """The file has an alpha channel or a tRNS chunk (PNG); always False for JPEG."""
    progressive: bool | None = None
    """JPEG progressive or PNG Adam7 interlaced."""
    orientation: int = 1
    """EXIF orientation 1..8 (1 when absent)."""
    arithmetic: bool | None = None
    """JPEG only: arithmetic-coded."""
    icc: str | None = None
    """Embedded ICC profile: "absent", "present" (used, or recognised as sRGB) or
    "ignored" (unusable: the image decodes as untagged; icc_ignored says why)."""
    icc_space: str | None = None
    """The profile's colour space (rgb, gray, cmyk, lab, xyz, ycbcr, other)."""
    icc_description: str | None = None
    """The profile's description, printable ASCII, at most 64 bytes."""
    icc_ignored: str | None = None
    """Why the profile was ignored."""
    png_color_chunks: str | None = None
    """PNG only: the colour chunks before the first IDAT, space-separated, or "none"."""
    cicp: str | None = None
    """CICP (ITU-T H.273) of the file, "primaries/transfer/matrix/full_range"."""
    cicp_ignored: str | None = None
    """Why that CICP is not used."""
    color_source: str | None = None
    """What image answers take their colour from (icc, icc-srgb, srgb, gama-chrm, gama,
    gama-srgb, cicp, cicp-srgb, none): PROTOCOL.md."""
    compression: str | None = None
    """WebP only: "lossy" (VP8) or "lossless" (VP8L), from the first frame."""
    version: str | None = None
    """GIF only: "87a" or "89a"."""
    animated: bool | None = None
    """GIF, WebP, PNG: more than one frame (APNG: an acTL chunk and more than one fcTL);
    HEIF/AVIF: an image sequence (a moov track or a sequence brand: avis, msf1, hevc)."""
    frame_count: int | None = None
    """GIF, WebP, PNG: frames counted in the file, up to a cap (frame_count_capped)."""
    frame_count_capped: bool | None = None
    """The count stopped at the cap (100000): the file has at least frame_count frames."""
    loop_count: int | None = None
    """Times the animation plays as the file says; 0 means forever (1 when not animated)."""
    duration: int | None = None
    """Total of the counted frames' delays in milliseconds (0 when not animated)."""
    xmp: bool | None = None
    """WebP only: the file has an XMP chunk (flagged in VP8X); its content is never sent."""
    stored_width: int | None = None
    """HEIF/AVIF only: the primary image's ispe width, before irot/imir/clap."""
    stored_height: int | None = None
    """HEIF/AVIF only: the primary image's ispe height, before irot/imir/clap."""
    item_count: int | None = None
    """HEIF/AVIF only: items in the file (images, tiles, thumbnails, alpha, Exif...)."""
    image_count: int | None = None
    """HEIF/AVIF only: top-level images (libheif's count; tiles and thumbnails excluded)."""
    has_thumbnail: bool | None = None
    """HEIF/AVIF only: the primary image has a thumbnail item (thumbnails use it when it
    is at least the requested size)."""
    primary_item_type: str | None = None
    """HEIF/AVIF only: the primary item's type: "hvc1" (HEVC), "av01" (AV1), "grid"..."""
    major_brand: str | None = None
    """HEIF/AVIF only: the ftyp major brand ("heic", "avif", "avis", "mif1"...)."""
    tiles: int | None = None
    """HEIF/AVIF only: grid tiles of the primary image (0 when it is not a grid)."""

    _CHECKS: ClassVar[dict[str, Callable[[Any], bool]]] = {
        "width": _positive_u32,
        "height": _positive_u32,
        "bit_depth": lambda v: 1 <= v <= 64,
        "orientation": lambda v: 1 <= v <= 8,
        "frame_count": lambda v: v >= 1,
        "stored_width": _positive_u32,
        "stored_height": _positive_u32,
        "item_count": lambda v: 0 <= v <= 1 << 32,
        "image_count": lambda v: 0 <= v <= 1 << 32,
        "tiles": lambda v: 0 <= v <= 1 << 32,
        "loop_count": lambda v: v >= 0,
        "duration": lambda v: v >= 0,
    }

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) once EXIF orientation is applied, as load_image returns it."""
        if self.orientation >= 5:
            return (self.height, self.width)
        return (self.width, self.height)


@dataclass(frozen=True, kw_only=True)
class VideoInfo(Metadata):
    """Metadata of a video (STREAM_VIDEO): its first video stream. Fields the container
    does not say are None (PROTOCOL.md, "Fields sent by sx-video --probe")."""

    container: str | None = None
    """libavformat's demuxer name, as ffprobe's format_name."""
    codec: str | None = None
    """Video codec (h264, hevc, vp8, vp9, av1)."""
    profile: str | None = None
    """Codec profile as ffprobe names it (High, Main 10...)."""
    level: int | None = None
    """Codec level number (H.264: 31 for 3.1; HEVC: 30 times the level)."""
    width: int
    """Decoded picture width, as stored (before aspect ratio and rotation)."""
    height: int
    """Decoded picture height, as stored."""
    sample_aspect_ratio: str | None = None
    """Pixel shape "N:D"."""
    display_aspect_ratio: str | None = None
    """Picture shape "N:D"."""
    display_width: int | None = None
    """Width as shown: aspect ratio and rotation applied."""
    display_height: int | None = None
    """Height as shown: aspect ratio and rotation applied."""
    rotation: int = 0
    """Degrees clockwise (0, 90, 180, 270) to turn the stored picture upright."""
    duration: float | None = None
    """Seconds; None for raw streams."""
    frame_rate: float | None = None
    """Frames per second."""
    frame_count: int | None = None
    """Frames in the video stream, when the container says."""
    bit_depth: int | None = None
    """Bits per sample of the decoded picture."""
    pix_fmt: str | None = None
    """FFmpeg pixel format of the decoded picture."""
    has_audio: bool | None = None
    """The container declares an audio stream (never decoded)."""
    video_streams: int | None = None
    """Video streams the container declares (cover art is not one)."""
    audio_streams: int | None = None
    """Audio streams the container declares."""
    subtitle_streams: int | None = None
    """Subtitle streams the container declares."""
    data_streams: int | None = None
    """Data streams (and attachments) the container declares."""
    bit_rate: int | None = None
    """Bits per second of the whole file, as ffprobe's format.bit_rate."""
    video_bit_rate: int | None = None
    """Bits per second of the chosen video stream, as the container states it."""
    audio_codec: str | None = None
    """The first audio stream's codec (aac, opus, mp2...; never decoded)."""
    audio_channels: int | None = None
    """The first audio stream's channels, as declared."""
    audio_sample_rate: int | None = None
    """The first audio stream's sample rate, as declared."""
    audio_duration: float | None = None
    """Seconds, the first audio stream's own duration."""
    color_primaries: str | None = None
    """FFmpeg's name, as ffprobe prints it (bt709, bt2020...)."""
    color_transfer: str | None = None
    """FFmpeg's name (bt709, smpte2084 for PQ, arib-std-b67 for HLG...)."""
    color_matrix: str | None = None
    """FFmpeg's name of the YUV matrix."""
    color_range: str | None = None
    """tv (limited) or pc (full)."""
    hdr: bool | None = None
    """The transfer is PQ or HLG: image answers are tone-mapped to SDR."""
    has_alpha: bool | None = None
    """A VP8/VP9 WebM/Matroska track declares alpha (reported, not composited)."""
    creation_time: str | None = None
    """ISO 8601 UTC to the second, from the container; location and device tags are never
    reported."""
    video_duration: float | None = None
    """Seconds, the video stream's own duration when the container states one."""
    container_duration: float | None = None
    """Seconds, the container's duration, else its longest stream's."""

    _CHECKS: ClassVar[dict[str, Callable[[Any], bool]]] = {
        "width": _positive_u32,
        "height": _positive_u32,
        "display_width": _positive_u32,
        "display_height": _positive_u32,
        "rotation": lambda v: v in (0, 90, 180, 270),
        "duration": _non_negative,
        "frame_rate": _non_negative,
        "frame_count": _non_negative,
        "audio_duration": _non_negative,
        "video_duration": _non_negative,
        "container_duration": _non_negative,
    }

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown, what a thumbnail is fitted from."""
        if self.display_width and self.display_height:
            return (self.display_width, self.display_height)
        if self.rotation in (90, 270):
            return (self.height, self.width)
        return (self.width, self.height)


@dataclass(frozen=True, kw_only=True)
class FontInfo(Metadata):
    """Metadata of a font (STREAM_FONT), about one face (face_index) of the file."""

    face_index: int = 0
    """The face described, from 0."""
    num_faces: int = 1
    """Faces in the file (more than 1 only in a collection)."""
    faces: list[str] | None = None
    """"family style" of each face, in order (at most 64; "?" for a face that does not
    open)."""
    family_name: str = ""
    """Family name (English first; characters outside ASCII as '?'); "" when absent."""
    style_name: str = ""
    """Style name, as family_name."""
    postscript_name: str = ""
    """PostScript name; "" when absent."""
    num_glyphs: int | None = None
    """Glyphs, as FreeType counts them."""
    units_per_em: int | None = None
    """Design units per em."""
    outline: str | None = None
    """truetype, cff, bitmap or other."""
    scalable: bool | None = None
    """The face has outlines."""
    fixed_pitch: bool | None = None
    """Monospaced (post.isFixedPitch)."""
    bold: bool | None = None
    """FreeType's bold style flag."""
    italic: bool | None = None
    """FreeType's italic style flag."""
    variable: bool | None = None
    """Has variation axes (the default instance is described)."""
    covers_latin: bool | None = None
    """The cmap maps basic Latin letters."""
    covers_greek: bool | None = None
    """The cmap maps Greek letters."""
    covers_cyrillic: bool | None = None
    """The cmap maps Cyrillic letters."""
    covers_cjk: bool | None = None
    """The cmap maps common CJK ideographs."""
    covers_arabic: bool | None = None
    """The cmap maps Arabic letters."""
    covers_hebrew: bool | None = None
    """The cmap maps Hebrew letters (PROTOCOL.md, font_scripts.c)."""
    covers_devanagari: bool | None = None
    """The cmap maps Devanagari letters (PROTOCOL.md, font_scripts.c)."""
    covers_bengali: bool | None = None
    """The cmap maps Bengali letters (PROTOCOL.md, font_scripts.c)."""
    covers_gurmukhi: bool | None = None
    """The cmap maps Gurmukhi letters (PROTOCOL.md, font_scripts.c)."""
    covers_gujarati: bool | None = None
    """The cmap maps Gujarati letters (PROTOCOL.md, font_scripts.c)."""
    covers_tamil: bool | None = None
    """The cmap maps Tamil letters (PROTOCOL.md, font_scripts.c)."""
    covers_telugu: bool | None = None
    """The cmap maps Telugu letters (PROTOCOL.md, font_scripts.c)."""
    covers_kannada: bool | None = None
    """The cmap maps Kannada letters (PROTOCOL.md, font_scripts.c)."""
    covers_malayalam: bool | None = None
    """The cmap maps Malayalam letters (PROTOCOL.md, font_scripts.c)."""
    covers_sinhala: bool | None = None
    """The cmap maps Sinhala letters (PROTOCOL.md, font_scripts.c)."""
    covers_thai: bool | None = None
    """The cmap maps Thai letters (PROTOCOL.md, font_scripts.c)."""
    covers_lao: bool | None = None
    """The cmap maps Lao letters (PROTOCOL.md, font_scripts.c)."""
    covers_tibetan: bool | None = None
    """The cmap maps Tibetan letters (PROTOCOL.md, font_scripts.c)."""
    covers_myanmar: bool | None = None
    """The cmap maps Myanmar letters (PROTOCOL.md, font_scripts.c)."""
    covers_khmer: bool | None = None
    """The cmap maps Khmer letters (PROTOCOL.md, font_scripts.c)."""
    covers_georgian: bool | None = None
    """The cmap maps Georgian letters (PROTOCOL.md, font_scripts.c)."""
    covers_armenian: bool | None = None
    """The cmap maps Armenian letters (PROTOCOL.md, font_scripts.c)."""
    covers_ethiopic: bool | None = None
    """The cmap maps Ethiopic letters (PROTOCOL.md, font_scripts.c)."""
    covers_hangul: bool | None = None
    """The cmap maps Hangul syllables (PROTOCOL.md, font_scripts.c)."""
    covers_kana: bool | None = None
    """The cmap maps Japanese kana (PROTOCOL.md, font_scripts.c)."""
    covers_math: bool | None = None
    """The cmap maps mathematical symbols (PROTOCOL.md, font_scripts.c)."""
    covers_symbols: bool | None = None
    """The cmap maps common symbols (arrows, dingbats...) (PROTOCOL.md, font_scripts.c)."""
    covers_emoji: bool | None = None
    """The cmap maps emoji (PROTOCOL.md, font_scripts.c)."""
    color: bool | None = None
    """Colour glyphs (COLR/CPAL, CBDT/CBLC or sbix), rendered in colour."""
    num_named_instances: int | None = None
    """Named instances of a variable face (fvar); 0 otherwise."""
    named_instances: list[str] | None = None
    """Their style names, when there are some."""
    validated: str | None = None
    """What the structural validator checked (a fixed list)."""
    num_tables: int | None = None
    """Table records of the face."""
    checksum_mismatches: int | None = None
    """Tables whose directory checksum differs from their bytes (reported, not refused,
    as browsers do); -1 for WOFF and WOFF2."""
    glyph_store: str | None = None
    """glyf, CFF, CFF2, CBDT, sbix or EBDT."""

    _CHECKS: ClassVar[dict[str, Callable[[Any], bool]]] = {
        "face_index": _non_negative,
        "num_faces": _positive_u32,
        "num_glyphs": _non_negative,
        "units_per_em": _non_negative,
    }

    @property
    def faces_list(self) -> list[str]:
        """`faces`, or [] when it was not sent."""
        return list(self.faces) if self.faces else []

    def covers(self, script: str) -> bool | None:
        """The covers_<script> field (PROTOCOL.md lists the scripts: latin ... emoji);
        None when it was not sent."""
        value = getattr(self, f"covers_{script}", None)
        if value is None:
            value = self.extra.get(f"covers_{script}")
        return value if isinstance(value, bool) else None


@dataclass(frozen=True, kw_only=True)
class LuaInfo(Metadata):
    """The verdict on a Lua 5.4 source (STREAM_LUA): compiled, never run. An invalid script
    is this result with valid False, not an exception."""

    valid: bool
    """Lua 5.4's parser accepts the script."""
    message: str | None = None
    """When invalid: Lua's own message (chunk name "input")."""
    line: int | None = None
    """When invalid: the line Lua names; 0 when it names none."""

    _CHECKS: ClassVar[dict[str, Callable[[Any], bool]]] = {"line": _non_negative}
