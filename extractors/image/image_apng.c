/* image_apng.c: the frames of an APNG (--frames N), composited here, each decoded by libpng.
 *
 * Debian's libpng reads no APNG chunk, so each frame is rebuilt as a small PNG stream in
 * memory: the signature, an IHDR with the frame's size (the rest of the file's IHDR kept),
 * every chunk between IHDR and the first IDAT except acTL and fcTL (palette, transparency,
 * colour chunks), the frame's data (IDAT chunks as they are, fdAT chunks re-wrapped as IDAT
 * with a new CRC after their own CRC was checked), and IEND. png_extract() decodes that
 * stream (full size, RGBA, colour converted as for any PNG), and the frame is composited on
 * the canvas with its fcTL's blend_op (source or over) and dispose_op (none, background,
 * previous) as the APNG specification says.
 *
 * Nothing in acTL is trusted but num_plays (the loop count): frames are the fcTL chunks
 * found. Every chunk length is checked against the input, every fcTL's CRC and size and
 * offsets against the canvas (IHDR's size) before use, and a frame's data must be there.
 * Sequence numbers are not checked. Decode-core code: no syscalls, memory through malloc.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image_apng.h"
#include "image_frames.h"
#include "sx_bytes.h"

struct apng_chunk {
	const uint8_t *type, *body;
	uint32_t len;
};

/* The chunk at *pos (length checked against the input); false at the end or when it does
 * not fit. */
static bool read_chunk(const uint8_t *d, size_t size, size_t *pos, struct apng_chunk *c)
{
	if (size < 12 || *pos > size - 12)
		return false;
	uint32_t len = sx_get_be32(d + *pos);
	if (len > size - *pos - 12)
		return false;
	c->type = d + *pos + 4;
	c->body = c->type + 4;
	c->len = len;
	*pos += 12 + (size_t)len;
	return true;
}

static bool is(const struct apng_chunk *c, const char *type)
{
	return memcmp(c->type, type, 4) == 0;
}

static bool crc_ok(const struct apng_chunk *c)
{
	uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), c->type, c->len + 4);
	return crc == sx_get_be32(c->body + c->len);
}

bool apng_is_animated(const uint8_t *data, size_t size)
{
	size_t pos = 8;
	struct apng_chunk c;
	while (read_chunk(data, size, &pos, &c) && !is(&c, "IDAT") && !is(&c, "IEND"))
		if (is(&c, "acTL"))
			return true;
	return false;
}

struct apng_frame {
	uint32_t w, h, x, y, delay_ms;
	uint8_t dispose, blend;
};

struct apng_job {
	const struct sx_request *req;
	const uint8_t *data;
	size_t size;
	const uint8_t *ihdr;	   /* the 13-byte body */
	size_t head_from, head_to; /* chunks after IHDR up to the first IDAT */
	uint32_t canvas_w, canvas_h, plays;
	uint8_t *canvas, *previous, *stream;
	struct sx_result *sub; /* png_extract's result for one frame */
};

static void put_chunk(uint8_t **p, const char *type, const uint8_t *body, uint32_t len)
{
	sx_put_be32(*p, len);
	memcpy(*p + 4, type, 4);
	if (len)
		memcpy(*p + 8, body, len);
	sx_put_be32(*p + 8 + len, (uint32_t)crc32(crc32(0, NULL, 0), *p + 4, len + 4));
	*p += 12 + (size_t)len;
}

/* Builds the frame's PNG stream from its data chunks at [from, to) and decodes it into
 * job->sub->image (RGBA, f->w x f->h). */
static enum sx_status decode_frame(struct apng_job *job, const struct apng_frame *f, size_t from,
				   size_t to, struct sx_result *result)
{
	/* The stream is never larger than the input plus the signature, IHDR and IEND. */
	free(job->stream);
	if (!(job->stream = malloc(job->size + 64)))
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for an APNG frame");
	uint8_t *p = job->stream;
	memcpy(p, "\x89PNG\r\n\x1a\n", 8);
	p += 8;
	uint8_t ihdr[13];
	memcpy(ihdr, job->ihdr, 13);
	sx_put_be32(ihdr, f->w);
	sx_put_be32(ihdr + 4, f->h);
	put_chunk(&p, "IHDR", ihdr, 13);
	struct apng_chunk c;
	for (size_t pos = job->head_from;
	     pos < job->head_to && read_chunk(job->data, job->size, &pos, &c);)
		if (!is(&c, "acTL") && !is(&c, "fcTL")) {
			memcpy(p, c.type - 4, 12 + (size_t)c.len);
			p += 12 + (size_t)c.len;
		}
	bool any = false;
	for (size_t pos = from; pos < to && read_chunk(job->data, job->size, &pos, &c);) {
		if (is(&c, "IDAT")) {
			memcpy(p, c.type - 4, 12 + (size_t)c.len);
			p += 12 + (size_t)c.len;
			any = true;
		} else if (is(&c, "fdAT")) {
			if (c.len < 4 || !crc_ok(&c))
				return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: bad fdAT chunk");
			put_chunk(&p, "IDAT", c.body + 4, c.len - 4);
			any = true;
		}
	}
	if (!any)
		return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: a frame has no image data");
	put_chunk(&p, "IEND", NULL, 0);
	struct sx_request one = *job->req;
	one.mode = SX_MODE_FULL;
	one.channels = 4;
	one.frames = 0;
	sx_result_release(job->sub);
	sx_result_init(job->sub);
	enum sx_status status = png_extract(&one, job->stream, (size_t)(p - job->stream), job->sub);
	if (status != SX_OK)
		return sx_fail(result, status, "APNG frame: %s", job->sub->detail);
	if (job->sub->image.width != f->w || job->sub->image.height != f->h ||
	    job->sub->image.channels != 4)
		return sx_fail(result, SX_ERR_INTERNAL, "APNG: frame decoded at another size");
	return SX_OK;
}

/* The decoded frame onto the canvas at its offset: replaced (blend 0) or alpha-composited
 * over what is there (blend 1), straight alpha. */
static void blend_frame(struct apng_job *job, const struct apng_frame *f)
{
	const uint8_t *src = job->sub->image.pixels;
	for (uint32_t y = 0; y < f->h; y++) {
		uint8_t *d = job->canvas + (((size_t)f->y + y) * job->canvas_w + f->x) * 4;
		const uint8_t *s = src + (size_t)y * f->w * 4;
		if (f->blend == 0) {
			memcpy(d, s, (size_t)f->w * 4);
			continue;
		}
		for (uint32_t x = 0; x < f->w; x++, d += 4, s += 4) {
			unsigned sa = s[3];
			if (sa == 255) {
				memcpy(d, s, 4);
			} else if (sa != 0) {
				unsigned da = d[3] * (255 - sa) / 255, oa = sa + da;
				for (int k = 0; k < 3; k++)
					d[k] = (uint8_t)((s[k] * sa + d[k] * da + oa / 2) / oa);
				d[3] = (uint8_t)oa;
			}
		}
	}
}

static void clear_rect(struct apng_job *job, const struct apng_frame *f)
{
	for (uint32_t y = 0; y < f->h; y++)
		memset(job->canvas + (((size_t)f->y + y) * job->canvas_w + f->x) * 4, 0,
		       (size_t)f->w * 4);
}

static enum sx_status read_fctl(const struct apng_job *job, const struct apng_chunk *c, bool first,
				struct apng_frame *f, struct sx_result *result)
{
	if (c->len != 26 || !crc_ok(c))
		return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: bad fcTL chunk");
	f->w = sx_get_be32(c->body + 4);
	f->h = sx_get_be32(c->body + 8);
	f->x = sx_get_be32(c->body + 12);
	f->y = sx_get_be32(c->body + 16);
	uint32_t num = sx_get_be16(c->body + 20), den = sx_get_be16(c->body + 22);
	f->delay_ms = (uint32_t)((uint64_t)num * 1000 / (den ? den : 100));
	f->dispose = c->body[24];
	f->blend = c->body[25];
	if (f->w == 0 || f->h == 0 || (uint64_t)f->x + f->w > job->canvas_w ||
	    (uint64_t)f->y + f->h > job->canvas_h || f->dispose > 2 || f->blend > 1)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "APNG: frame %ux%u at %u,%u does not fit the %ux%u canvas", f->w,
			       f->h, f->x, f->y, job->canvas_w, job->canvas_h);
	if (first && f->dispose == 2)
		f->dispose = 1; /* the spec: nothing to go back to before the first frame */
	return SX_OK;
}

/* Walks the chunks; each frame ends at the next fcTL or IEND and is then decoded,
 * composited and added. */
static enum sx_status run_frames(struct apng_job *job, struct frame_sink *sink,
				 struct sx_result *result)
{
	size_t pos = 8;
	struct apng_chunk c;
	if (!read_chunk(job->data, job->size, &pos, &c) || !is(&c, "IHDR") || c.len != 13)
		return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: no IHDR");
	job->ihdr = c.body;
	job->head_from = pos;
	bool have = false, seen_idat = false;
	struct apng_frame f = {0};
	size_t data_from = 0;
	enum sx_status status = SX_OK;
	for (;;) {
		size_t at = pos;
		bool more = read_chunk(job->data, job->size, &pos, &c);
		if (!more)
			return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: truncated (no IEND)");
		bool ends = is(&c, "fcTL") || is(&c, "IEND");
		if (ends && have && !seen_idat)
			return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: no IDAT before frame data");
		if (ends && have) {
			/* The previous frame is complete: decode, composite, add, dispose. */
			status = decode_frame(job, &f, data_from, at, result);
			if (status != SX_OK)
				return status;
			size_t bytes = (size_t)job->canvas_w * job->canvas_h * 4;
			if (f.dispose == 2)
				memcpy(job->previous, job->canvas, bytes);
			blend_frame(job, &f);
			status = frames_add(sink, job->canvas, f.delay_ms, result);
			if (status != SX_OK || frames_full(sink))
				return status;
			if (f.dispose == 1)
				clear_rect(job, &f);
			else if (f.dispose == 2)
				memcpy(job->canvas, job->previous, bytes);
			have = false;
		}
		if (is(&c, "IEND"))
			return SX_OK;
		if (is(&c, "IDAT") && !seen_idat) {
			seen_idat = true;
			job->head_to = at;
		}
		if (is(&c, "fcTL")) {
			status = read_fctl(job, &c, sink->count == 0, &f, result);
			if (status != SX_OK)
				return status;
			/* The default image is frame 0 only when its fcTL comes before IDAT, and
			 * then it fills the canvas. */
			if (!seen_idat &&
			    (f.x || f.y || f.w != job->canvas_w || f.h != job->canvas_h))
				return sx_fail(result, SX_ERR_BAD_INPUT,
					       "APNG: the default image's fcTL is not the canvas");
			have = true;
			data_from = pos;
		}
	}
}

enum sx_status apng_frames(const struct sx_request *req, const uint8_t *data, size_t size,
			   struct sx_result *result)
{
	struct apng_job job = {.req = req, .data = data, .size = size};
	if (size < 8 + 25)
		return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: file is truncated");
	job.canvas_w = sx_get_be32(data + 16);
	job.canvas_h = sx_get_be32(data + 20);
	/* As for every format, a truncated file is never frames: the chunks must reach IEND
	 * (lengths only here; CRCs as each chunk is used). */
	size_t pos = 8;
	struct apng_chunk c;
	bool idat = false, iend = false;
	while (!iend && read_chunk(data, size, &pos, &c)) {
		idat = idat || is(&c, "IDAT");
		iend = is(&c, "IEND");
		if (!idat && is(&c, "acTL") && c.len == 8)
			job.plays = sx_get_be32(c.body + 4);
	}
	if (!iend)
		return sx_fail(result, SX_ERR_BAD_INPUT, "APNG: truncated (no IEND)");
	if (job.canvas_w > SX_PNG_MAX_SIDE || job.canvas_h > SX_PNG_MAX_SIDE)
		return sx_fail(result, SX_ERR_LIMIT, "APNG: %ux%u is over the side cap",
			       job.canvas_w, job.canvas_h);
	enum sx_status status = check_pixel_cap(req, job.canvas_w, job.canvas_h, result);
	if (status != SX_OK)
		return status;
	size_t bytes = (size_t)job.canvas_w * job.canvas_h * 4;
	struct frame_sink sink = {0};
	job.canvas = calloc(1, bytes);
	job.previous = malloc(bytes);
	job.sub = malloc(sizeof *job.sub);
	if (!job.canvas || !job.previous || !job.sub)
		status = sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u canvas",
				 job.canvas_w, job.canvas_h);
	if (status == SX_OK) {
		sx_result_init(job.sub);
		status = frames_open(&sink, req, job.canvas_w, job.canvas_h, 1, NULL, result);
	}
	if (status == SX_OK)
		status = run_frames(&job, &sink, result);
	if (job.sub)
		sx_result_release(job.sub);
	free(job.sub);
	free(job.stream);
	free(job.previous);
	free(job.canvas);
	if (status != SX_OK) {
		frames_discard(&sink);
		return status;
	}
	return frames_close(&sink, job.plays, result);
}
