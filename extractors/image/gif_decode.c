/* gif_decode.c: GIF probe and first-frame decode through giflib, from memory, record by
 * record, to 8-bit RGBA, errors as statuses.
 *
 * The probe walks the block structure itself (headers and sub-block lengths only, every
 * length checked against the input, no LZW decoding, no allocation) to count frames up to
 * SX_ANIM_MAX_FRAMES_COUNTED and sum their delays; a decode needs that walk to reach the
 * trailer (a truncated file is never an image) unless the count cap stopped it. A decode reads
 * records through giflib until the first image: the logical screen is checked against
 * SX_GIF_MAX_SIDE and the pixel cap before the canvas is allocated, the frame likewise before its
 * line buffer; that frame is composited onto a transparent screen (transparent index from its
 * Graphic Control Extension, interlaced rows put back in place, parts outside the screen clipped),
 * and giflib is closed without reading further frames. A --frames request goes on frame by frame
 * (disposal modes applied) until the sink is full or the trailer comes.
 */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "image_frames.h"
#include "image_internal.h"
#include "sx_bytes.h"
#include "sx_size.h"

struct gif_walk {
	uint32_t width, height, frames, loop_count;
	uint64_t duration;
	bool capped, complete, transparency, interlaced, has_netscape;
};

/* Skips sub-blocks from *pos; false when they run past the end or past the LZW cap. */
static bool skip_sub_blocks(const uint8_t *d, size_t size, size_t *pos)
{
	size_t total = 0;
	while (*pos < size) {
		size_t len = d[(*pos)++];
		if (len == 0)
			return true;
		if (len > size - *pos || (total += len) > SX_GIF_MAX_LZW_BYTES)
			return false;
		*pos += len;
	}
	return false;
}

static enum sx_status walk_gif(const uint8_t *d, size_t size, struct gif_walk *w,
			       struct sx_result *result)
{
	memset(w, 0, sizeof *w);
	w->loop_count = 1; /* no NETSCAPE2.0 block: played once */
	if (size < 13)
		return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: file is truncated");
	w->width = sx_get_le16(d + 6);
	w->height = sx_get_le16(d + 8);
	size_t pos = 13;
	if (d[10] & 0x80)
		pos += (size_t)3 << ((d[10] & 7) + 1);
	unsigned delay = 0;
	while (pos < size) {
		uint8_t b = d[pos++];
		if (b == 0x3B) {
			w->complete = true;
			return SX_OK;
		}
		if (b == 0x21) {
			if (pos + 2 > size)
				break;
			uint8_t label = d[pos++];
			size_t at = pos;
			if (label == 0xF9 && d[at] >= 4 && at + 5 <= size) {
				delay = sx_get_le16(d + at + 2);
				if (d[at + 1] & 1)
					w->transparency = true;
			}
			if (label == 0xFF && d[at] == 11 && at + 17 <= size &&
			    (memcmp(d + at + 1, "NETSCAPE2.0", 11) == 0 ||
			     memcmp(d + at + 1, "ANIMEXTS1.0", 11) == 0) &&
			    d[at + 12] == 3 && d[at + 13] == 1) {
				w->has_netscape = true;
				w->loop_count = sx_get_le16(d + at + 14);
			}
			if (!skip_sub_blocks(d, size, &pos))
				break;
		} else if (b == 0x2C) {
			if (pos + 10 > size)
				break;
			uint8_t packed = d[pos + 8];
			if (w->frames == 0)
				w->interlaced = (packed & 0x40) != 0;
			pos += 9;
			if (packed & 0x80)
				pos += (size_t)3 << ((packed & 7) + 1);
			pos += 1; /* LZW minimum code size */
			if (pos > size || !skip_sub_blocks(d, size, &pos))
				break;
			w->duration += (uint64_t)delay * 10;
			delay = 0;
			if (++w->frames >= SX_ANIM_MAX_FRAMES_COUNTED) {
				w->capped = true;
				return SX_OK;
			}
		} else {
			return w->frames
				   ? SX_OK
				   : sx_fail(result, SX_ERR_BAD_INPUT, "GIF: bad block 0x%02x", b);
		}
	}
	/* Truncated: what was counted stands for the probe; the decode judges the rest. */
	return w->frames ? SX_OK : sx_fail(result, SX_ERR_BAD_INPUT, "GIF: file is truncated");
}

static void describe(const struct gif_walk *w, const uint8_t *d, struct sx_meta *m)
{
	sx_meta_add_cstring(m, "format", "gif");
	sx_meta_add_cstring(m, "version", d[4] == '7' ? "87a" : "89a");
	sx_meta_add_int(m, "width", w->width);
	sx_meta_add_int(m, "height", w->height);
	sx_meta_add_int(m, "bit_depth", 8);
	sx_meta_add_cstring(m, "color_type", "palette");
	sx_meta_add_bool(m, "has_alpha", w->transparency);
	sx_meta_add_bool(m, "progressive", w->interlaced);
	sx_meta_add_bool(m, "animated", w->frames > 1);
	sx_meta_add_int(m, "frame_count", w->frames);
	sx_meta_add_bool(m, "frame_count_capped", w->capped);
	sx_meta_add_int(m, "loop_count", w->loop_count);
	sx_meta_add_int(m, "duration", (int64_t)w->duration);
}

struct gif_input {
	const uint8_t *data;
	size_t size, pos;
};

static int read_input(GifFileType *gif, GifByteType *out, int len)
{
	struct gif_input *in = gif->UserData;
	size_t n = len < 0 ? 0 : (size_t)len;
	if (n > in->size - in->pos)
		n = in->size - in->pos;
	memcpy(out, in->data + in->pos, n);
	in->pos += n;
	return (int)n;
}

/* A frame's colour map as RGBA pixels: alpha 0 for the transparent index and for indexes
 * past the map (both leave the canvas as it is). */
static void build_palette(uint8_t pal[256][4], const ColorMapObject *map, int transparent)
{
	memset(pal, 0, 256 * 4);
	for (int i = 0; i < map->ColorCount && i < 256; i++) {
		if (i == transparent)
			continue;
		pal[i][0] = map->Colors[i].Red;
		pal[i][1] = map->Colors[i].Green;
		pal[i][2] = map->Colors[i].Blue;
		pal[i][3] = 255;
	}
}

/* Composites one frame row into the canvas, clipped to the screen; an index whose palette
 * entry has alpha 0 (transparent, or out of the colour map) leaves the pixel alone. */
static void put_row(uint8_t *canvas, uint32_t sw, uint32_t sh, const GifImageDesc *img,
		    const uint8_t pal[256][4], uint32_t row, const uint8_t *line)
{
	uint32_t y = (uint32_t)img->Top + row, x0 = (uint32_t)img->Left;
	if (y >= sh || x0 >= sw)
		return;
	uint32_t n = (uint32_t)img->Width;
	if (n > sw - x0)
		n = sw - x0;
	uint8_t *p = canvas + ((size_t)y * sw + x0) * 4;
	for (uint32_t i = 0; i < n; i++, p += 4) {
		const uint8_t *c = pal[line[i]];
		if (c[3])
			memcpy(p, c, 4);
	}
}

/* The Graphic Control Extension in force for the next image. */
struct gif_control {
	int transparent; /* index, or -1 */
	int disposal;	 /* 0..3 as stored (4..7 act as 0) */
	uint32_t delay_ms;
};

/* Reads records up to the next image descriptor (*end false) or the trailer (*end true),
 * taking the last Graphic Control Extension seen on the way. */
static enum sx_status next_image(GifFileType *gif, struct gif_control *gce, bool *end,
				 struct sx_result *result)
{
	*gce = (struct gif_control){-1, 0, 0};
	*end = false;
	for (;;) {
		GifRecordType type;
		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
			return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: %s",
				       GifErrorString(gif->Error));
		if (type == TERMINATE_RECORD_TYPE) {
			*end = true;
			return SX_OK;
		}
		if (type == EXTENSION_RECORD_TYPE) {
			int code;
			GifByteType *ext;
			if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
				return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: bad extension");
			if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4) {
				gce->transparent = (ext[1] & 1) ? ext[4] : -1;
				gce->disposal = (ext[1] >> 2) & 7;
				gce->delay_ms = (uint32_t)(ext[2] | ext[3] << 8) * 10;
			}
			while (ext)
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
					return sx_fail(result, SX_ERR_BAD_INPUT,
						       "GIF: bad extension");
			continue;
		}
		if (type != IMAGE_DESC_RECORD_TYPE)
			return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: unknown record");
		if (DGifGetImageDesc(gif) == GIF_ERROR)
			return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: bad image descriptor");
		return SX_OK;
	}
}

/* Decodes the image whose descriptor was just read onto the canvas (sw x sh). */
static enum sx_status draw_image(const struct sx_request *req, GifFileType *gif, uint8_t *canvas,
				 uint32_t sw, uint32_t sh, int transparent,
				 struct sx_result *result)
{
	const GifImageDesc *img = &gif->Image;
	const ColorMapObject *map = img->ColorMap ? img->ColorMap : gif->SColorMap;
	if (!map)
		return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: a frame has no colour map");
	enum sx_status status =
	    check_pixel_cap(req, (uint32_t)img->Width, (uint32_t)img->Height, result);
	if (status != SX_OK)
		return status;
	uint8_t pal[256][4];
	build_palette(pal, map, transparent);
	uint8_t *line = malloc((size_t)img->Width);
	if (!line)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %d-pixel row",
			       img->Width);
	static const uint32_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
	uint32_t fh = (uint32_t)img->Height;
	for (int pass = 0; pass < (img->Interlace ? 4 : 1); pass++) {
		for (uint32_t row = img->Interlace ? start[pass] : 0; row < fh;
		     row += img->Interlace ? step[pass] : 1) {
			if (DGifGetLine(gif, line, img->Width) == GIF_ERROR) {
				free(line);
				return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: %s",
					       GifErrorString(gif->Error));
			}
			put_row(canvas, sw, sh, img, (const uint8_t(*)[4])pal, row, line);
		}
	}
	free(line);
	return SX_OK;
}

/* Disposal 2: the frame's rectangle (clipped to the screen) back to transparent, as
 * browsers do. */
static void clear_rect(uint8_t *canvas, uint32_t sw, uint32_t sh, const GifImageDesc *img)
{
	uint32_t x0 = (uint32_t)img->Left, y0 = (uint32_t)img->Top;
	if (x0 >= sw || y0 >= sh)
		return;
	uint32_t x1 = x0 + (uint32_t)img->Width, y1 = y0 + (uint32_t)img->Height;
	if (x1 > sw)
		x1 = sw;
	if (y1 > sh)
		y1 = sh;
	for (uint32_t y = y0; y < y1; y++)
		memset(canvas + ((size_t)y * sw + x0) * 4, 0, (size_t)(x1 - x0) * 4);
}

/* Composites the frames onto a transparent screen: the first one only (sink NULL: the
 * canvas then holds it), or every frame into the sink until it is full or the file ends,
 * disposal 1 (keep), 2 (clear the rectangle) and 3 (back to the canvas before the frame)
 * applied between frames. */
static enum sx_status composite(const struct sx_request *req, GifFileType *gif, uint8_t *canvas,
				uint32_t sw, uint32_t sh, struct frame_sink *sink,
				struct sx_result *result)
{
	size_t bytes = (size_t)sw * sh * 4; /* under the pixel cap */
	uint8_t *previous = NULL;
	enum sx_status status = SX_OK;
	for (uint32_t n = 0;; n++) {
		struct gif_control gce;
		bool end;
		status = next_image(gif, &gce, &end, result);
		if (status != SX_OK)
			break;
		if (end) {
			if (n == 0)
				status =
				    sx_fail(result, SX_ERR_BAD_INPUT, "GIF: no image in the file");
			break;
		}
		if (sink && gce.disposal == 3) {
			if (!previous && !(previous = malloc(bytes))) {
				status = sx_fail(result, SX_ERR_NO_MEMORY,
						 "no memory for a %ux%u screen", sw, sh);
				break;
			}
			memcpy(previous, canvas, bytes);
		}
		status = draw_image(req, gif, canvas, sw, sh, gce.transparent, result);
		if (status != SX_OK || !sink)
			break;
		status = frames_add(sink, canvas, gce.delay_ms, result);
		if (status != SX_OK || frames_full(sink))
			break;
		if (gce.disposal == 2)
			clear_rect(canvas, sw, sh, &gif->Image);
		else if (gce.disposal == 3)
			memcpy(canvas, previous, bytes);
	}
	free(previous);
	return status;
}

enum sx_status gif_extract(const struct sx_request *req, const uint8_t *data, size_t size,
			   struct sx_result *result)
{
	struct gif_walk w;
	enum sx_status status = walk_gif(data, size, &w, result);
	if (status != SX_OK)
		return status;
	if (w.width > SX_GIF_MAX_SIDE || w.height > SX_GIF_MAX_SIDE)
		return sx_fail(result, SX_ERR_LIMIT,
			       "GIF: %ux%u logical screen is over the cap of %u", w.width, w.height,
			       SX_GIF_MAX_SIDE);
	if (req->mode == SX_MODE_PROBE) {
		describe(&w, data, &result->meta);
		result->kind = SX_RESULT_META;
		return SX_OK;
	}
	/* As for every format: a truncated file is never an image. Past the count cap the walk
	 * stopped early, and the first frame alone is judged by giflib. */
	if (!w.complete && !w.capped)
		return sx_fail(result, SX_ERR_BAD_INPUT, "GIF: file is truncated (no trailer)");
	status = check_pixel_cap(req, w.width, w.height, result);
	if (status != SX_OK)
		return status;
	struct gif_input in = {data, size, 0};
	int err = 0;
	GifFileType *gif = DGifOpen(&in, read_input, &err);
	if (!gif)
		return sx_fail(
		    result, err == D_GIF_ERR_NOT_ENOUGH_MEM ? SX_ERR_NO_MEMORY : SX_ERR_BAD_INPUT,
		    "GIF: %s", GifErrorString(err));
	/* Transparent black: what browsers show where no frame painted. */
	uint8_t *canvas = calloc((size_t)w.width * w.height, 4);
	if (!canvas) {
		DGifCloseFile(gif, &err);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u image", w.width,
			       w.height);
	}
	struct frame_sink sink = {0};
	bool frames = req->frames > 0;
	if (frames)
		status = frames_open(&sink, req, w.width, w.height, 1, NULL, result);
	if (status == SX_OK)
		status =
		    composite(req, gif, canvas, w.width, w.height, frames ? &sink : NULL, result);
	DGifCloseFile(gif, &err);
	if (status != SX_OK || frames) {
		free(canvas);
		if (status == SX_OK)
			return frames_close(&sink, w.has_netscape ? w.loop_count : 1, result);
		frames_discard(&sink);
		return status;
	}
	return finish_image(req, canvas, w.width, w.height, w.width, w.height, 1, result);
}
