/* heif_boxes.c: the bounded box walk of heif_boxes.h (ISO/IEC 14496-12 and 23008-12
 * layouts, read field by field with every length checked against its box). */
#include "heif_boxes.h"

#include <string.h>

#include "sx_bytes.h"

/* A box: its type and body, inside [p, end). */
struct box {
	uint32_t type;
	const uint8_t *body;
	size_t size;
};

#define FOURCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Reads the box header at *p; false when it does not fit. size 0 runs to `end`. */
static bool next_box(const uint8_t **p, const uint8_t *end, struct box *b)
{
	size_t left = (size_t)(end - *p);
	if (left < 8)
		return false;
	uint64_t size = sx_get_be32(*p);
	b->type = sx_get_be32(*p + 4);
	size_t head = 8;
	if (size == 1) {
		if (left < 16)
			return false;
		size = (uint64_t)sx_get_be32(*p + 8) << 32 | sx_get_be32(*p + 12);
		head = 16;
	} else if (size == 0) {
		size = left;
	}
	if (size < head || size > left)
		return false;
	b->body = *p + head;
	b->size = (size_t)size - head;
	*p += size;
	return true;
}

/* A cursor over a box body: reads fail (and stay failed) past the end. */
struct cur {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t take(struct cur *c, unsigned bytes)
{
	if (c->bad || (size_t)(c->end - c->p) < bytes) {
		c->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | c->p[i];
	c->p += bytes;
	return v;
}

struct walk_arrays {
	/* ipco: ispe by 1-based property index (0 x 0: not an ispe) */
	uint32_t prop_w[SX_HEIF_MAX_PROPERTIES + 1], prop_h[SX_HEIF_MAX_PROPERTIES + 1];
	/* iref dimg edges */
	uint32_t ref_from[SX_HEIF_MAX_REFERENCES], ref_to[SX_HEIF_MAX_REFERENCES];
	/* ipma: the ispe of each item (by association order) */
	uint32_t item_id[SX_HEIF_MAX_ITEMS], item_prop[SX_HEIF_MAX_ITEMS];
	/* iloc: the first extent of each item, to find the primary grid's descriptor */
	uint32_t loc_id[SX_HEIF_MAX_ITEMS];
	uint8_t loc_method[SX_HEIF_MAX_ITEMS];
	uint64_t loc_offset[SX_HEIF_MAX_ITEMS], loc_length[SX_HEIF_MAX_ITEMS];
};

/* A walk clears its scalars only: every entry of `a` is written before it is read
 * (below its count), so a fork-server child does not dirty ~1 MB of copy-on-write pages
 * per request. */
struct walk {
	struct heif_layout *out;
	const uint8_t *file;
	size_t file_size;
	uint64_t max_pixels;
	struct sx_result *result;
	uint32_t prop_count;	  /* ipco children seen */
	uint32_t ref_count;	  /* dimg edges */
	uint32_t item_ispe_count; /* ipma associations with an ispe */
	uint32_t loc_count;	  /* iloc items recorded */
	const uint8_t *ipma, *iinf, *idat;
	size_t ipma_size, iinf_size, idat_size;
	struct walk_arrays *a;
};

static enum sx_status bad(struct walk *w, const char *what)
{
	return sx_fail(w->result, SX_ERR_BAD_INPUT, "HEIF: %s", what);
}

static enum sx_status check_area(struct walk *w, uint64_t iw, uint64_t ih, const char *what)
{
	if (iw > SX_HEIF_MAX_SIDE || ih > SX_HEIF_MAX_SIDE || iw * ih > w->max_pixels)
		return sx_fail(w->result, SX_ERR_LIMIT,
			       "HEIF: %s of %llux%llu exceeds the caps (side %u, %llu pixels)",
			       what, (unsigned long long)iw, (unsigned long long)ih,
			       SX_HEIF_MAX_SIDE, (unsigned long long)w->max_pixels);
	return SX_OK;
}

static enum sx_status walk_ipco(struct walk *w, const uint8_t *p, const uint8_t *end)
{
	struct box b;
	while (p < end) {
		if (!next_box(&p, end, &b))
			return bad(w, "ipco property does not fit");
		if (w->prop_count >= SX_HEIF_MAX_PROPERTIES)
			return sx_fail(w->result, SX_ERR_LIMIT, "HEIF: more than %u properties",
				       SX_HEIF_MAX_PROPERTIES);
		uint32_t idx = ++w->prop_count;
		w->a->prop_w[idx] = w->a->prop_h[idx] = 0;
		struct cur c = {b.body, b.body + b.size, false};
		if (b.type == FOURCC('i', 's', 'p', 'e')) {
			take(&c, 4);
			uint32_t iw = (uint32_t)take(&c, 4), ih = (uint32_t)take(&c, 4);
			if (c.bad)
				return bad(w, "ispe is truncated");
			enum sx_status st = check_area(w, iw, ih, "an ispe");
			if (st != SX_OK)
				return st;
			w->a->prop_w[idx] = iw;
			w->a->prop_h[idx] = ih;
		} else if (b.type == FOURCC('p', 'i', 'x', 'i')) {
			take(&c, 4);
			uint64_t channels = take(&c, 1);
			if (c.bad)
				return bad(w, "pixi is truncated");
			if (channels > SX_HEIF_MAX_CHANNELS)
				return sx_fail(w->result, SX_ERR_LIMIT,
					       "HEIF: pixi declares %u channels (cap %u)",
					       (unsigned)channels, SX_HEIF_MAX_CHANNELS);
		}
	}
	return SX_OK;
}

static enum sx_status walk_ipma(struct walk *w)
{
	struct cur c = {w->ipma, w->ipma + w->ipma_size, false};
	uint64_t vf = take(&c, 4);
	unsigned version = (unsigned)(vf >> 24);
	uint64_t entries = take(&c, 4);
	for (uint64_t i = 0; i < entries && !c.bad; i++) {
		uint32_t id = (uint32_t)take(&c, version < 1 ? 2 : 4);
		uint64_t n = take(&c, 1);
		for (uint64_t k = 0; k < n && !c.bad; k++) {
			uint32_t idx =
			    (uint32_t)take(&c, (vf & 1) ? 2 : 1) & ((vf & 1) ? 0x7fff : 0x7f);
			if (idx == 0 || idx > w->prop_count || w->a->prop_w[idx] == 0)
				continue;
			if (w->item_ispe_count >= SX_HEIF_MAX_ITEMS)
				return sx_fail(w->result, SX_ERR_LIMIT, "HEIF: more than %u items",
					       SX_HEIF_MAX_ITEMS);
			w->a->item_id[w->item_ispe_count] = id;
			w->a->item_prop[w->item_ispe_count++] = idx;
		}
	}
	return c.bad ? bad(w, "ipma is truncated") : SX_OK;
}

static enum sx_status walk_iref(struct walk *w, const uint8_t *p, const uint8_t *end)
{
	struct cur head = {p, end, false};
	unsigned version = (unsigned)(take(&head, 4) >> 24);
	if (head.bad)
		return bad(w, "iref is truncated");
	p = head.p;
	struct box b;
	unsigned idb = version == 0 ? 2 : 4;
	while (p < end) {
		if (!next_box(&p, end, &b))
			return bad(w, "iref entry does not fit");
		struct cur c = {b.body, b.body + b.size, false};
		uint32_t from = (uint32_t)take(&c, idb);
		uint64_t n = take(&c, 2);
		for (uint64_t k = 0; k < n && !c.bad; k++) {
			uint32_t to = (uint32_t)take(&c, idb);
			if (b.type != FOURCC('d', 'i', 'm', 'g') || c.bad)
				continue;
			if (w->ref_count >= SX_HEIF_MAX_REFERENCES)
				return sx_fail(w->result, SX_ERR_LIMIT,
					       "HEIF: more than %u derivation references",
					       SX_HEIF_MAX_REFERENCES);
			w->a->ref_from[w->ref_count] = from;
			w->a->ref_to[w->ref_count++] = to;
		}
		if (c.bad)
			return bad(w, "iref entry is truncated");
	}
	return SX_OK;
}

static bool field_size_ok(unsigned n)
{
	return n == 0 || n == 4 || n == 8;
}

static enum sx_status walk_iloc(struct walk *w, const uint8_t *p, const uint8_t *end)
{
	struct cur c = {p, end, false};
	unsigned version = (unsigned)(take(&c, 4) >> 24);
	uint64_t sizes = take(&c, 2);
	unsigned off = (unsigned)(sizes >> 12), len = (unsigned)(sizes >> 8) & 15,
		 base = (unsigned)(sizes >> 4) & 15, index = version ? (unsigned)sizes & 15 : 0;
	if (!field_size_ok(off) || !field_size_ok(len) || !field_size_ok(base) ||
	    !field_size_ok(index))
		return bad(w, "iloc field sizes are invalid");
	uint64_t items = take(&c, version < 2 ? 2 : 4);
	if (items > SX_HEIF_MAX_ITEMS)
		return sx_fail(w->result, SX_ERR_LIMIT, "HEIF: iloc lists %llu items (cap %u)",
			       (unsigned long long)items, SX_HEIF_MAX_ITEMS);
	for (uint64_t i = 0; i < items && !c.bad; i++) {
		uint32_t id = (uint32_t)take(&c, version < 2 ? 2 : 4);
		unsigned method = version ? (unsigned)take(&c, 2) & 15 : 0;
		take(&c, 2);
		uint64_t b0 = take(&c, base);
		uint64_t extents = take(&c, 2);
		for (uint64_t e = 0; e < extents && !c.bad; e++) {
			take(&c, index);
			uint64_t o = take(&c, off), l = take(&c, len);
			if (e == 0 && w->loc_count < SX_HEIF_MAX_ITEMS && !c.bad) {
				w->a->loc_id[w->loc_count] = id;
				w->a->loc_method[w->loc_count] = (uint8_t)method;
				w->a->loc_offset[w->loc_count] = b0 + o;
				w->a->loc_length[w->loc_count++] = l;
			}
			/* Method 0: file offsets, which must lie inside the file. */
			if (method == 0 && !c.bad &&
			    (b0 > w->file_size || o > w->file_size - b0 ||
			     l > w->file_size - b0 - o))
				return bad(w, "an iloc extent lies outside the file");
			if (l > UINT64_MAX - w->out->extent_bytes)
				return bad(w, "iloc extents overflow");
			w->out->extent_bytes += l;
		}
	}
	if (c.bad)
		return bad(w, "iloc is truncated");
	if (w->out->extent_bytes > SX_HEIF_EXTENT_FACTOR * (uint64_t)w->file_size + 65536)
		return sx_fail(w->result, SX_ERR_LIMIT,
			       "HEIF: items reference %llu bytes of a %zu-byte file",
			       (unsigned long long)w->out->extent_bytes, w->file_size);
	return SX_OK;
}

/* iinf: the entry count, and the primary item's type (infe version 2 or 3). */
static enum sx_status walk_iinf(struct walk *w)
{
	struct cur c = {w->iinf, w->iinf + w->iinf_size, false};
	unsigned version = (unsigned)(take(&c, 4) >> 24);
	uint64_t n = take(&c, version == 0 ? 2 : 4);
	if (c.bad)
		return bad(w, "iinf is truncated");
	if (n > SX_HEIF_MAX_ITEMS)
		return sx_fail(w->result, SX_ERR_LIMIT, "HEIF: %llu items (cap %u)",
			       (unsigned long long)n, SX_HEIF_MAX_ITEMS);
	w->out->item_count = (uint32_t)n;
	struct box b;
	const uint8_t *p = c.p;
	while (p < c.end && next_box(&p, c.end, &b)) {
		struct cur e = {b.body, b.body + b.size, false};
		unsigned v = (unsigned)(take(&e, 4) >> 24);
		if (b.type != FOURCC('i', 'n', 'f', 'e') || v < 2)
			continue;
		uint32_t id = (uint32_t)take(&e, v == 2 ? 2 : 4);
		take(&e, 2);
		uint64_t type = take(&e, 4);
		if (!e.bad && id == w->out->primary_id)
			for (int i = 0; i < 4; i++) {
				char ch = (char)(type >> (24 - 8 * i));
				w->out->primary_type[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
			}
	}
	return SX_OK;
}

static bool is_derived(const struct walk *w, uint32_t id)
{
	for (uint32_t i = 0; i < w->ref_count; i++)
		if (w->a->ref_from[i] == id)
			return true;
	return false;
}

/* The derivation graph: tiles of the primary, their total area, and no derived image
 * whose inputs are derived images themselves (iden/grid/iovl of a grid, or a cycle). */
static enum sx_status check_derivations(struct walk *w)
{
	uint64_t tile_area = 0;
	for (uint32_t i = 0; i < w->ref_count; i++) {
		uint32_t to = w->a->ref_to[i];
		if (to == w->a->ref_from[i] || is_derived(w, to))
			return sx_fail(w->result, SX_ERR_UNSUPPORTED,
				       "HEIF: item %u derives from derived item %u (nested or "
				       "circular references)",
				       w->a->ref_from[i], to);
		if (w->a->ref_from[i] != w->out->primary_id)
			continue;
		w->out->tiles++;
		for (uint32_t k = 0; k < w->item_ispe_count; k++)
			if (w->a->item_id[k] == to)
				tile_area += (uint64_t)w->a->prop_w[w->a->item_prop[k]] *
					     w->a->prop_h[w->a->item_prop[k]];
	}
	if (w->out->tiles > SX_HEIF_MAX_TILES)
		return sx_fail(w->result, SX_ERR_LIMIT, "HEIF: a grid of %u tiles (cap %u)",
			       w->out->tiles, SX_HEIF_MAX_TILES);
	if (tile_area > SX_HEIF_TILE_AREA_FACTOR * w->max_pixels)
		return sx_fail(w->result, SX_ERR_LIMIT,
			       "HEIF: the tiles add up to %llu pixels (cap %llu)",
			       (unsigned long long)tile_area,
			       (unsigned long long)(SX_HEIF_TILE_AREA_FACTOR * w->max_pixels));
	for (uint32_t k = 0; k < w->item_ispe_count; k++) {
		if (is_derived(w, w->a->item_id[k]))
			continue;
		uint32_t pw = w->a->prop_w[w->a->item_prop[k]],
			 ph = w->a->prop_h[w->a->item_prop[k]];
		w->out->max_coded_w = pw > w->out->max_coded_w ? pw : w->out->max_coded_w;
		w->out->max_coded_h = ph > w->out->max_coded_h ? ph : w->out->max_coded_h;
	}
	return SX_OK;
}

/* The primary grid's descriptor (ISO/IEC 23008-12 6.6.2.3): its output size against the
 * caps (libheif allocates the output from it, not from the ispe), and rows x columns
 * against the tiles referenced. */
static enum sx_status check_grid(struct walk *w)
{
	const uint8_t *p = NULL;
	uint64_t n = 0;
	for (uint32_t i = 0; i < w->loc_count && !p; i++) {
		if (w->a->loc_id[i] != w->out->primary_id)
			continue;
		const uint8_t *base = w->a->loc_method[i] == 1 ? w->idat : w->file;
		size_t size = w->a->loc_method[i] == 1 ? w->idat_size : w->file_size;
		if (w->a->loc_method[i] > 1 || !base || w->a->loc_offset[i] > size)
			return bad(w, "the grid descriptor is not in the file");
		n = w->a->loc_length[i] ? w->a->loc_length[i] : size - w->a->loc_offset[i];
		if (n > size - w->a->loc_offset[i])
			return bad(w, "the grid descriptor is not in the file");
		p = base + w->a->loc_offset[i];
	}
	struct cur c = {p, p ? p + n : NULL, p == NULL};
	take(&c, 1);
	unsigned flags = (unsigned)take(&c, 1);
	uint64_t rows = take(&c, 1) + 1, cols = take(&c, 1) + 1;
	uint64_t gw = take(&c, flags & 1 ? 4 : 2), gh = take(&c, flags & 1 ? 4 : 2);
	if (c.bad)
		return bad(w, "the grid descriptor is missing or truncated");
	enum sx_status st = check_area(w, gw, gh, "a grid output");
	if (st != SX_OK)
		return st;
	if (rows * cols != w->out->tiles)
		return bad(w, "the grid's rows x columns differ from its tile references");
	for (uint32_t k = 0; k < w->item_ispe_count; k++)
		if (w->a->item_id[k] == w->out->primary_id &&
		    (w->a->prop_w[w->a->item_prop[k]] != gw ||
		     w->a->prop_h[w->a->item_prop[k]] != gh))
			return bad(w, "the grid's output size differs from its ispe");
	return SX_OK;
}

static enum sx_status walk_meta(struct walk *w, const uint8_t *p, const uint8_t *end)
{
	if (end - p < 4)
		return bad(w, "meta is truncated");
	p += 4;
	struct box b;
	enum sx_status st = SX_OK;
	while (p < end && st == SX_OK) {
		if (!next_box(&p, end, &b))
			return bad(w, "a meta child does not fit");
		const uint8_t *e = b.body + b.size;
		switch (b.type) {
		case FOURCC('p', 'i', 't', 'm'): {
			struct cur c = {b.body, e, false};
			unsigned v = (unsigned)(take(&c, 4) >> 24);
			w->out->primary_id = (uint32_t)take(&c, v == 0 ? 2 : 4);
			if (c.bad)
				return bad(w, "pitm is truncated");
			break;
		}
		case FOURCC('i', 'i', 'n', 'f'):
			w->iinf = b.body;
			w->iinf_size = b.size;
			break;
		case FOURCC('i', 'r', 'e', 'f'): st = walk_iref(w, b.body, e); break;
		case FOURCC('i', 'd', 'a', 't'):
			w->idat = b.body;
			w->idat_size = b.size;
			break;
		case FOURCC('i', 'l', 'o', 'c'): st = walk_iloc(w, b.body, e); break;
		case FOURCC('i', 'p', 'r', 'p'): {
			const uint8_t *q = b.body;
			struct box c;
			while (q < e && st == SX_OK) {
				if (!next_box(&q, e, &c))
					return bad(w, "an iprp child does not fit");
				if (c.type == FOURCC('i', 'p', 'c', 'o'))
					st = walk_ipco(w, c.body, c.body + c.size);
				else if (c.type == FOURCC('i', 'p', 'm', 'a')) {
					w->ipma = c.body;
					w->ipma_size = c.size;
				}
			}
			break;
		}
		default: break;
		}
	}
	if (st == SX_OK && w->iinf)
		st = walk_iinf(w);
	if (st == SX_OK && w->ipma)
		st = walk_ipma(w);
	if (st == SX_OK)
		st = check_derivations(w);
	if (st == SX_OK && !strcmp(w->out->primary_type, "grid"))
		st = check_grid(w);
	return st;
}

static void read_brands(struct heif_layout *out, const struct box *b)
{
	for (size_t i = 0; i + 4 <= b->size; i += 4) {
		if (i == 4)
			continue; /* minor version */
		const char *t = (const char *)b->body + i;
		if (i == 0)
			for (int k = 0; k < 4; k++)
				out->major_brand[k] = t[k] >= 0x20 && t[k] < 0x7f ? t[k] : '?';
		if (!memcmp(t, "heic", 4) || !memcmp(t, "heix", 4) || !memcmp(t, "hevc", 4) ||
		    !memcmp(t, "hevx", 4) || !memcmp(t, "heim", 4) || !memcmp(t, "heis", 4))
			out->brand_heic = true;
		if (!memcmp(t, "avif", 4) || !memcmp(t, "avis", 4))
			out->brand_avif = true;
		if (!memcmp(t, "avis", 4) || !memcmp(t, "msf1", 4) || !memcmp(t, "hevc", 4) ||
		    !memcmp(t, "hevs", 4))
			out->brand_sequence = true;
	}
}

enum sx_status heif_walk(const uint8_t *data, size_t size, uint64_t max_pixels,
			 struct heif_layout *out, struct sx_result *result)
{
	/* The arrays are large (about 1.3 MB): static, like every extractor's result; one walk
	 * at a time. */
	static struct walk_arrays arrays;
	struct walk w;
	memset(&w, 0, sizeof(w));
	w.a = &arrays;
	memset(out, 0, sizeof(*out));
	w.out = out;
	w.file = data;
	w.file_size = size;
	w.max_pixels = max_pixels;
	w.result = result;
	const uint8_t *p = data, *end = data + size;
	struct box b;
	unsigned boxes = 0, metas = 0;
	while (p < end) {
		if (++boxes > SX_HEIF_MAX_TOP_BOXES)
			return sx_fail(result, SX_ERR_LIMIT, "HEIF: more than %u top-level boxes",
				       SX_HEIF_MAX_TOP_BOXES);
		if (!next_box(&p, end, &b))
			return bad(&w, "a top-level box does not fit the file");
		if (boxes == 1 && b.type != FOURCC('f', 't', 'y', 'p'))
			return sx_fail(result, SX_ERR_UNSUPPORTED, "not a HEIF file (no ftyp)");
		if (b.type == FOURCC('f', 't', 'y', 'p'))
			read_brands(out, &b);
		else if (b.type == FOURCC('m', 'o', 'o', 'v'))
			out->has_moov = true;
		else if (b.type == FOURCC('m', 'e', 't', 'a')) {
			if (++metas > 1)
				return bad(&w, "more than one meta box");
			enum sx_status st = walk_meta(&w, b.body, b.body + b.size);
			if (st != SX_OK)
				return st;
		}
	}
	if (metas == 0)
		return sx_fail(result, SX_ERR_UNSUPPORTED, "HEIF: no meta box (no still image)");
	return SX_OK;
}
