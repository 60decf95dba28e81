/* sx_limits.h: every cap and default the extractors enforce, in one place: the request's
 * defaults and maxima first, then a section per family.
 *
 * Phase: any. Compile-time constants only. The request (argv) may lower or raise the
 * per-request values within the hard maxima below; nothing read from the input can.
 */
#ifndef SX_LIMITS_H
#define SX_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Memory pool: reserved (virtual, untouched) at first malloc, cut down to the request's
 * cap before the strict line. */
#define SX_POOL_RESERVE_BYTES ((uint64_t)4 << 30)
#define SX_POOL_DEFAULT_BYTES ((uint64_t)512 << 20)
#define SX_POOL_MIN_BYTES ((uint64_t)16 << 20)

/* Input size read from fd 0. */
#define SX_INPUT_DEFAULT_BYTES ((uint64_t)256 << 20)
#define SX_INPUT_MAX_BYTES ((uint64_t)2 << 30)

/* Pixels of the source image (width * height) an extractor agrees to decode. */
#define SX_PIXELS_DEFAULT ((uint64_t)64 << 20)
#define SX_PIXELS_MAX ((uint64_t)256 << 20)

/* Thumbnail box sides. */
#define SX_BOX_MAX_SIDE 8192u

/* CPU seconds (RLIMIT_CPU, soft == hard). */
#define SX_CPU_SECONDS_DEFAULT 10u
#define SX_CPU_SECONDS_MAX 300u

/* RLIMIT_STACK (soft == hard): after the strict line the stack is the only memory that
 * can still grow (by page faults), so it is bounded here as the pool is by its cap.
 * Linux's usual default; every test runs under it. RLIMIT_AS is not set: after the line
 * no mapping can be created or grown (mmap, mremap and brk are killed), so the stack is
 * the only growth, and a tight address-space limit before the line would break library
 * warm-ups that map files (time zone, iconv modules) in one-shot mode. */
#define SX_STACK_LIMIT_BYTES ((uint64_t)8 << 20)

/* RLIMIT_NOFILE once fds are closed: only 0..2 can exist anyway. */
#define SX_NOFILE_LIMIT 4u

/* Answer message bounds (PROTOCOL.md). */
#define SX_DETAIL_MAX 256u
#define SX_META_MAX_FIELDS 64u
#define SX_META_MAX_BYTES 65536u
#define SX_META_KEY_MAX 32u
#define SX_META_STRING_MAX 1024u

/* --- sx-image --- */

/* JPEG: progressive scans before we call it a scan bomb, and the total work allowed
 * (scans x width x height): 64 Mpixel photos with up to 32 scans (typical: under 12). */
#define SX_JPEG_MAX_SCANS 1000
#define SX_JPEG_MAX_SCAN_PIXELS ((uint64_t)1 << 31)

/* Animation (GIF, WebP, APNG probes): frames counted before the count stops and the probe
 * says so (frame_count_capped). Counting walks chunk/block headers only, never decodes. */
#define SX_ANIM_MAX_FRAMES_COUNTED 100000u
/* --frames N (wire version 3): N is at most SX_FRAMES_MAX. The answer holds the first frames
 * while their output pixels, summed, stay within the request's max_pixels (each frame is one
 * thumbnail or full-size picture), and while the canvas pixels composited so far stay within
 * SX_FRAMES_MAX_WORK_PIXELS: past either cap the answer has fewer frames than asked (at least
 * one), never an error. */
#define SX_FRAMES_MAX 1000u
#define SX_FRAMES_MAX_WORK_PIXELS ((uint64_t)1 << 30)

/* WebP (libwebp): a side is at most 16383 by the format; the canvas also goes through the
 * request's pixel cap before libwebp allocates anything. */
#define SX_WEBP_MAX_SIDE 16383u
/* A bare-TIFF EXIF chunk is copied (to add JPEG's prefix) only up to this size. */
#define SX_WEBP_MAX_EXIF_BYTES ((size_t)1 << 20)

/* GIF (giflib): logical screen side, checked (with the pixel cap on the screen) before any
 * allocation; bytes of LZW data one frame may carry before we call it endless (a 16384^2
 * frame of random indices at 12-bit codes is ~400 MB, so this also bounds the LZW work);
 * the first frame only is decoded, so the total decoded pixels are the screen's. */
#define SX_GIF_MAX_SIDE 16384u
#define SX_GIF_MAX_LZW_BYTES ((size_t)256 << 20)

/* PNG: libpng's own limits. */
#define SX_PNG_MAX_SIDE 1000000u
#define SX_PNG_CHUNK_MALLOC_MAX ((uint32_t)8 << 20)
#define SX_PNG_CHUNK_CACHE_MAX 256u
/* Largest single allocation libpng may make (its rows for a 1e6-wide RGBA16 image: 8 MB). */
#define SX_PNG_MAX_ALLOC ((size_t)64 << 20)

/* Colour (image_color.c, LittleCMS): an embedded profile larger than this, or with more
 * tags, is ignored (the image decodes as untagged). Real camera and phone profiles are
 * 0.5-60 KB; print (CMYK) profiles up to a few MB. lcms2 itself refuses over 100 tags. */
#define SX_COLOR_MAX_PROFILE_BYTES ((size_t)4 << 20)
#define SX_COLOR_MAX_TAGS 100u
/* Colour lookup tables a profile may declare (grid points ^ inputs x outputs entries, per
 * table; a 33^4 x 3 CMYK table is 3.6M) and curve table entries in lut16 tags. */
#define SX_COLOR_MAX_CLUT_ENTRIES ((uint64_t)4 << 20)
#define SX_COLOR_MAX_LUT16_CURVE_ENTRIES 4096u
/* Everything lcms2 may hold at once while one profile is read and one transform is built
 * and run (its own allocator plugin counts it). */
#define SX_COLOR_LCMS_MEMORY_MAX ((size_t)96 << 20)
/* Profile description reported by --probe (printable ASCII, cut at this many bytes). */
#define SX_COLOR_DESCRIPTION_MAX 64u

/* --- sx-video --- */

/* Content probing: the first bytes handed to the whitelisted demuxers' probes, growing
 * from MIN to MAX like libavformat's own av_probe_input_buffer2() (PROBE_BUF_MIN/MAX). */
#define SX_VIDEO_PROBE_MIN_BYTES 2048u
#define SX_VIDEO_PROBE_MAX_BYTES ((uint32_t)1 << 20)

/* The AVIOContext buffer over the in-memory input. */
#define SX_VIDEO_IO_BUFFER_BYTES ((uint32_t)32 << 10)

/* Streams a container may declare before libavformat refuses it (its default is 1000). */
#define SX_VIDEO_MAX_STREAMS 64

/* Looking for the first decodable frame: give up after this many video packets or this
 * many bytes of them, whichever comes first (undecodable leading packets are skipped). */
#define SX_VIDEO_MAX_PACKETS 1000u
#define SX_VIDEO_MAX_PACKET_BYTES ((uint64_t)64 << 20)

/* Top-level MP4/MOV boxes walked to check the moov box against the file's end: far more
 * than any real file has; a file of 8-byte boxes stops here. */
#define SX_VIDEO_MAX_TOP_BOXES 100000u

/* MPEG-TS duration (probe only): the timestamps in this many bytes at the end of the
 * input, at most SX_VIDEO_MAX_PACKETS packets of them. */
#define SX_VIDEO_TAIL_BYTES ((uint64_t)1 << 20)

/* HDR to SDR (video_hdr.c): a picture peaking below this percentage of SDR white (100 nits)
 * is taken as SDR content plus coding noise: clipped at white, no highlight roll-off. */
#define SX_VIDEO_HDR_WHITE_SLACK_PERCENT 110u

/* --- sx-heif (HEIC, AVIF: extractors/heif/heif_boxes.c walks the boxes against these
 * before libheif parses anything) --- */

/* A side of any image item (ispe) or decoded picture; also libheif's own
 * heif_context_set_maximum_image_size_limit. Areas go through the request's max_pixels. */
#define SX_HEIF_MAX_SIDE 32768u
/* Items (iinf entries, iloc entries, ipma entries) and ipco properties. */
#define SX_HEIF_MAX_ITEMS 4096u
#define SX_HEIF_MAX_PROPERTIES 4096u
/* dimg references in the file, and grid tiles of the primary image (an iPhone's 48 MP
 * photo is 192 tiles of 512x512). */
#define SX_HEIF_MAX_REFERENCES 16384u
#define SX_HEIF_MAX_TILES 4096u
/* The tiles' areas together may exceed the pixel cap by this factor (edge tiles overhang). */
#define SX_HEIF_TILE_AREA_FACTOR 2u
/* Bytes the iloc extents may reference, as a multiple of the file size (plus 64 KiB):
 * items may share bytes, but not a thousand times over. */
#define SX_HEIF_EXTENT_FACTOR 4u
/* pixi channels (Y, Cb, Cr and alpha at most in what we decode). */
#define SX_HEIF_MAX_CHANNELS 4u
/* Top-level boxes walked. */
#define SX_HEIF_MAX_TOP_BOXES 10000u
/* A coded picture may exceed the largest ispe by this much on each side (block padding). */
#define SX_HEIF_CODING_SLACK 64u

/* --- sx-font --- */

/* The box a --full preview is fitted into (then held under the request's max_pixels). */
#define SX_FONT_FULL_WIDTH 1024u
#define SX_FONT_FULL_HEIGHT 512u

/* Pixel sizes (em) the sample is rendered at. Below the minimum the render is made at the
 * minimum and scaled down; above the maximum the preview comes out smaller than its box
 * (never enlarged), so no glyph bitmap is larger than a few hundred pixels a side. */
#define SX_FONT_MIN_PIXEL_SIZE 6u
#define SX_FONT_MAX_PIXEL_SIZE 200u

/* --text: the preview text a request may give (UTF-8, no control characters). */
#define SX_FONT_TEXT_MAX_BYTES 256u

/* Glyphs loaded and rendered for one preview, and of them the family-name line. */
#define SX_FONT_MAX_GLYPHS 128u
#define SX_FONT_MAX_NAME_GLYPHS 40u

/* A glyph whose outline box is wider or taller than this many ems is not rendered (a
 * hostile outline would otherwise make a huge bitmap); its advance still counts. */
#define SX_FONT_MAX_GLYPH_EMS 3u

/* The canvas the sample is drawn on before it is fitted into the box. */
#define SX_FONT_MAX_CANVAS_PIXELS ((uint64_t)16 << 20)

/* Faces of a collection opened to list their names in --probe. */
#define SX_FONT_MAX_LISTED_FACES 64u

/* Structural validation (font_validate.c). Table records in one face (sfnt allows 65535;
 * real fonts hold fewer than 100; a fixture holds 319); faces of a
 * collection; the decompressed size of one table a WOFF/WOFF2 may declare (OTS: 30 MiB
 * for all of them). */
#define SX_FONT_MAX_TABLES 1024u
#define SX_FONT_MAX_COLLECTION_FACES 4096u
#define SX_FONT_MAX_TABLE_BYTES ((uint32_t)64 << 20)

/* Charmap entries walked to find something to show when no known script is covered. */
#define SX_FONT_MAX_CHARMAP_STEPS 512u

/* --- sx-lua --- */

/* Source bytes handed to the parser. A 5 MiB one-line script parses in well under a CPU
 * second; anything longer than this is refused before Lua sees it. */
#define SX_LUA_SOURCE_MAX_BYTES ((size_t)8 << 20)

/* Bytes the Lua state may hold while parsing. The parser of a 5 MiB script of numbers or
 * names peaks around 30-100 MiB. The cap is also held under three quarters of the
 * request's pool, so the cap (a clean LIMIT) is reached before the pool runs dry. */
#define SX_LUA_MEMORY_MAX_BYTES ((size_t)256 << 20)

#endif
