/* font_validate.c: the structural checks a browser's sanitizer (OTS) makes before it lets
 * a web font through, made by sx-font after the strict line and before any verdict; a
 * leaf that font_core.c calls.
 *
 * Two passes. font_validate_container reads the raw bytes before FreeType sees them: the
 * collection header, the sfnt table directory (count, tags, order, offsets inside the
 * file and past the directory, 4-byte alignment, overlaps, checksums counted), the WOFF
 * and WOFF2 headers and directories. font_validate_tables then reads the tables every
 * font needs through FreeType (FT_Load_Sfnt_Table, so WOFF and WOFF2 are checked on what
 * FreeType decompressed, against the sizes their directories declare): head, hhea, maxp,
 * hmtx sized by hhea and maxp, loca monotonic and inside glyf, cmap, name, post, OS/2,
 * and one glyph store (glyf+loca, CFF, CFF2 or colour bitmaps).
 *
 * Every failure is SX_ERR_BAD_INPUT with a detail that starts with the table's tag (or
 * "table directory", "collection", "WOFF", "WOFF2") and says why.
 */
#include <stdlib.h>
#include <string.h>

#include "font_internal.h"
#include "sx_bytes.h"
#include "sx_limits.h"

#include FT_TRUETYPE_TABLES_H

#define TAG(a, b, c, d)                                                                            \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* "cmap" of a tag (printable by construction: tags are checked before they are named). */
static const char *tag_name(uint32_t tag, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (24 - 8 * i));
		out[i] = c >= 0x20 && c < 0x7F ? c : '?';
	}
	out[4] = '\0';
	return out;
}

static enum sx_status bad(struct sx_result *result, uint32_t tag, const char *why)
{
	char name[5];
	return sx_fail(result, SX_ERR_BAD_INPUT, "%s: %s", tag_name(tag, name), why);
}

struct record {
	uint32_t tag, offset, length;
};

static int by_offset(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->length < y->length ? -1 : x->length > y->length;
}

/* Tables must not share bytes (OTS refuses overlapping tables); zero-length records touch
 * nothing. `recs` is sorted here. */
static enum sx_status check_overlaps(struct record *recs, unsigned n, const char *what,
				     struct sx_result *result)
{
	qsort(recs, n, sizeof *recs, by_offset);
	uint64_t end = 0;
	uint32_t end_tag = 0;
	for (unsigned i = 0; i < n; i++) {
		if (recs[i].length == 0)
			continue;
		if (recs[i].offset < end) {
			char a[5], b[5];
			return sx_fail(result, SX_ERR_BAD_INPUT, "%s: tables %s and %s overlap",
				       what, tag_name(end_tag, a), tag_name(recs[i].tag, b));
		}
		end = (uint64_t)recs[i].offset + recs[i].length;
		end_tag = recs[i].tag;
	}
	return SX_OK;
}

static bool printable_tag(uint32_t tag)
{
	for (int i = 0; i < 4; i++) {
		unsigned c = (tag >> (8 * i)) & 0xFF;
		if (c < 0x20 || c > 0x7E)
			return false;
	}
	return true;
}

/* The tables whose zero-length record is refused at once (each would fail its own check
 * later with a vaguer reason). */
static bool required_tag(uint32_t tag)
{
	static const uint32_t tags[] = {
	    TAG('c', 'm', 'a', 'p'), TAG('h', 'e', 'a', 'd'), TAG('h', 'h', 'e', 'a'),
	    TAG('h', 'm', 't', 'x'), TAG('m', 'a', 'x', 'p'), TAG('n', 'a', 'm', 'e'),
	    TAG('p', 'o', 's', 't'), TAG('O', 'S', '/', '2'), TAG('l', 'o', 'c', 'a'),
	    TAG('g', 'l', 'y', 'f'), TAG('C', 'F', 'F', ' '), TAG('C', 'F', 'F', '2'),
	};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (tags[i] == tag)
			return true;
	return false;
}

/* The sum of big-endian 32-bit words of a table, zero-padded to 4 bytes; for head, its
 * checkSumAdjustment (bytes 8..11) counts as 0. Word by word through memcpy and a byte
 * swap, which the compiler vectorises: a whole font is summed on every request. */
static uint32_t table_checksum(const uint8_t *p, uint32_t len, bool head)
{
	uint32_t sum = 0;
	uint32_t i = 0;
	for (; i + 4 <= len; i += 4) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		sum += __builtin_bswap32(w);
	}
	if (i < len) {
		uint8_t last[4] = {0, 0, 0, 0};
		memcpy(last, p + i, len - i);
		sum += sx_get_be32(last);
	}
	if (head && len >= 12)
		sum -= sx_get_be32(p + 8);
	return sum;
}

/* The sfnt table directory at `at` (0, or a collection's face offset; a collection's
 * header ends at `header_end`, and its faces' tables may lie before this directory). */
static enum sx_status check_sfnt_directory(const uint8_t *data, size_t size, uint32_t at,
					   uint32_t header_end, struct font_checks *checks,
					   struct sx_result *result)
{
	if ((uint64_t)at + 12 > size)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "table directory: the %zu-byte file ends inside the sfnt header",
			       size);
	uint32_t version = sx_get_be32(data + at);
	unsigned n = sx_get_be16(data + at + 4);
	if (n == 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "table directory: no table");
	if (n > SX_FONT_MAX_TABLES)
		return sx_fail(result, SX_ERR_BAD_INPUT, "table directory: %u tables (at most %u)",
			       n, SX_FONT_MAX_TABLES);
	uint64_t dir_end = (uint64_t)at + 12 + 16ull * n;
	if (dir_end > size)
		return sx_fail(
		    result, SX_ERR_BAD_INPUT,
		    "table directory: %u records end at byte %llu, past the %zu-byte file", n,
		    (unsigned long long)dir_end, size);
	struct record *recs = malloc(n * sizeof *recs);
	if (!recs)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the table directory");
	enum sx_status status = SX_OK;
	char why[160];
	unsigned mismatches = 0;
	uint32_t prev = 0;
	for (unsigned i = 0; i < n && status == SX_OK; i++) {
		const uint8_t *r = data + at + 12 + 16 * i;
		struct record rec = {sx_get_be32(r), sx_get_be32(r + 8), sx_get_be32(r + 12)};
		uint32_t sum = sx_get_be32(r + 4);
		recs[i] = rec;
		if (!printable_tag(rec.tag)) {
			status =
			    sx_fail(result, SX_ERR_BAD_INPUT,
				    "table directory: record %u has a tag that is not ASCII", i);
		} else if (i > 0 && rec.tag <= prev) {
			snprintf(why, sizeof why,
				 "table record %u out of tag order (the directory "
				 "must be sorted, without duplicates)",
				 i);
			status = bad(result, rec.tag, why);
		} else if (rec.offset < header_end ||
			   (rec.offset < dir_end && (uint64_t)rec.offset + rec.length > at)) {
			snprintf(why, sizeof why,
				 "table offset %u lies inside the table directory "
				 "(bytes %u to %llu)",
				 rec.offset, at, (unsigned long long)dir_end);
			status = bad(result, rec.tag, why);
		} else if (rec.offset % 4 != 0) {
			snprintf(why, sizeof why, "table offset %u is not a multiple of 4",
				 rec.offset);
			status = bad(result, rec.tag, why);
		} else if ((uint64_t)rec.offset + rec.length > size) {
			snprintf(why, sizeof why,
				 "table runs past the end of the file (offset %u + "
				 "length %u > %zu bytes)",
				 rec.offset, rec.length, size);
			status = bad(result, rec.tag, why);
		} else if (rec.length == 0 && required_tag(rec.tag)) {
			status = bad(result, rec.tag, "table record of length 0");
		} else if (table_checksum(data + rec.offset, rec.length,
					  rec.tag == TAG('h', 'e', 'a', 'd')) != sum) {
			mismatches++;
		}
		prev = rec.tag;
	}
	if (status == SX_OK)
		status = check_overlaps(recs, n, "table directory", result);
	free(recs);
	if (status != SX_OK)
		return status;
	checks->sfnt_version = version;
	checks->num_tables = n;
	checks->checksum_mismatches = (int)mismatches;
	return SX_OK;
}

static enum sx_status check_collection(const uint8_t *data, size_t size, unsigned face,
				       struct font_checks *checks, struct sx_result *result)
{
	if (size < 12)
		return sx_fail(result, SX_ERR_BAD_INPUT, "collection: %zu bytes, no header", size);
	uint16_t major = sx_get_be16(data + 4);
	uint32_t n = sx_get_be32(data + 8);
	if (major != 1 && major != 2)
		return sx_fail(result, SX_ERR_BAD_INPUT, "collection: version %u", major);
	if (n == 0 || n > SX_FONT_MAX_COLLECTION_FACES)
		return sx_fail(result, SX_ERR_BAD_INPUT, "collection: %u faces (1 to %u allowed)",
			       n, SX_FONT_MAX_COLLECTION_FACES);
	if (12 + 4ull * n > size)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "collection: %u face offsets do not fit in %zu bytes", n, size);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = sx_get_be32(data + 12 + 4 * i);
		if (off < 12 + 4ull * n || (uint64_t)off + 12 > size)
			return sx_fail(
			    result, SX_ERR_BAD_INPUT,
			    "collection: face %u at offset %u, outside the %zu-byte file", i, off,
			    size);
	}
	checks->num_faces = n;
	if (face >= n)
		return sx_fail(result, SX_ERR_BAD_REQUEST, "face %u requested; the font has %u",
			       face, n);
	return check_sfnt_directory(data, size, sx_get_be32(data + 12 + 4 * face),
				    (uint32_t)(12 + 4 * n), checks, result);
}

static enum sx_status check_woff(const uint8_t *data, size_t size, struct font_checks *checks,
				 struct sx_result *result)
{
	if (size < 44)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF: %zu bytes, no header", size);
	uint32_t length = sx_get_be32(data + 8);
	unsigned n = sx_get_be16(data + 12);
	uint32_t total = sx_get_be32(data + 16);
	if (length != size)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF: header says %u bytes, file has %zu",
			       length, size);
	if (n == 0 || n > SX_FONT_MAX_TABLES)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF: %u tables", n);
	if (sx_get_be16(data + 14) != 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF: reserved field is not 0");
	uint64_t dir_end = 44 + 20ull * n;
	if (dir_end > size)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WOFF: the table directory runs past the end");
	struct record *recs = malloc(n * sizeof *recs);
	if (!recs)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for the table directory");
	enum sx_status status = SX_OK;
	char why[160];
	uint64_t sfnt_size = 12 + 16ull * n;
	uint32_t prev = 0;
	for (unsigned i = 0; i < n && status == SX_OK; i++) {
		const uint8_t *r = data + 44 + 20 * i;
		struct record rec = {sx_get_be32(r), sx_get_be32(r + 4), sx_get_be32(r + 8)};
		uint32_t orig = sx_get_be32(r + 12);
		recs[i] = rec;
		if (!printable_tag(rec.tag))
			status = sx_fail(result, SX_ERR_BAD_INPUT,
					 "WOFF: record %u has a tag that is not ASCII", i);
		else if (i > 0 && rec.tag <= prev)
			status = bad(result, rec.tag, "WOFF table record out of tag order");
		else if (rec.offset < dir_end || rec.offset % 4 != 0)
			status = bad(result, rec.tag,
				     "WOFF table offset inside the directory or not "
				     "a multiple of 4");
		else if ((uint64_t)rec.offset + rec.length > size)
			status = bad(result, rec.tag, "WOFF table runs past the end of the file");
		else if (rec.length > orig)
			status = bad(result, rec.tag,
				     "WOFF compressed length larger than the "
				     "declared original length");
		else if (orig > SX_FONT_MAX_TABLE_BYTES) {
			snprintf(why, sizeof why, "declares %u bytes decompressed (at most %u)",
				 orig, (unsigned)SX_FONT_MAX_TABLE_BYTES);
			status = bad(result, rec.tag, why);
		} else if (rec.length == 0 && required_tag(rec.tag))
			status = bad(result, rec.tag, "table record of length 0");
		if (i < SX_FONT_MAX_TABLES)
			checks->declared[i] = (struct font_declared){rec.tag, orig};
		sfnt_size += (orig + 3ull) & ~3ull;
		prev = rec.tag;
	}
	if (status == SX_OK)
		status = check_overlaps(recs, n, "WOFF", result);
	free(recs);
	if (status != SX_OK)
		return status;
	if (total != sfnt_size)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WOFF: totalSfntSize %u, but the tables it declares add up to %llu",
			       total, (unsigned long long)sfnt_size);
	checks->sfnt_version = sx_get_be32(data + 4);
	checks->num_tables = n;
	checks->num_declared = n;
	return SX_OK;
}

/* WOFF2's variable-length integer (at most 5 bytes, no leading zero byte, fits 32 bits). */
static bool read_base128(const uint8_t *data, size_t size, size_t *pos, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 5; i++) {
		if (*pos >= size)
			return false;
		uint8_t b = data[(*pos)++];
		if (i == 0 && b == 0x80)
			return false;
		if (v & 0xFE000000u)
			return false;
		v = (v << 7) | (b & 0x7F);
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static const uint32_t woff2_known_tags[63] = {
    TAG('c', 'm', 'a', 'p'), TAG('h', 'e', 'a', 'd'), TAG('h', 'h', 'e', 'a'),
    TAG('h', 'm', 't', 'x'), TAG('m', 'a', 'x', 'p'), TAG('n', 'a', 'm', 'e'),
    TAG('O', 'S', '/', '2'), TAG('p', 'o', 's', 't'), TAG('c', 'v', 't', ' '),
    TAG('f', 'p', 'g', 'm'), TAG('g', 'l', 'y', 'f'), TAG('l', 'o', 'c', 'a'),
    TAG('p', 'r', 'e', 'p'), TAG('C', 'F', 'F', ' '), TAG('V', 'O', 'R', 'G'),
    TAG('E', 'B', 'D', 'T'), TAG('E', 'B', 'L', 'C'), TAG('g', 'a', 's', 'p'),
    TAG('h', 'd', 'm', 'x'), TAG('k', 'e', 'r', 'n'), TAG('L', 'T', 'S', 'H'),
    TAG('P', 'C', 'L', 'T'), TAG('V', 'D', 'M', 'X'), TAG('v', 'h', 'e', 'a'),
    TAG('v', 'm', 't', 'x'), TAG('B', 'A', 'S', 'E'), TAG('G', 'D', 'E', 'F'),
    TAG('G', 'P', 'O', 'S'), TAG('G', 'S', 'U', 'B'), TAG('E', 'B', 'S', 'C'),
    TAG('J', 'S', 'T', 'F'), TAG('M', 'A', 'T', 'H'), TAG('C', 'B', 'D', 'T'),
    TAG('C', 'B', 'L', 'C'), TAG('C', 'O', 'L', 'R'), TAG('C', 'P', 'A', 'L'),
    TAG('S', 'V', 'G', ' '), TAG('s', 'b', 'i', 'x'), TAG('a', 'c', 'n', 't'),
    TAG('a', 'v', 'a', 'r'), TAG('b', 'd', 'a', 't'), TAG('b', 'l', 'o', 'c'),
    TAG('b', 's', 'l', 'n'), TAG('c', 'v', 'a', 'r'), TAG('f', 'd', 's', 'c'),
    TAG('f', 'e', 'a', 't'), TAG('f', 'm', 't', 'x'), TAG('f', 'v', 'a', 'r'),
    TAG('g', 'v', 'a', 'r'), TAG('h', 's', 't', 'y'), TAG('j', 'u', 's', 't'),
    TAG('l', 'c', 'a', 'r'), TAG('m', 'o', 'r', 't'), TAG('m', 'o', 'r', 'x'),
    TAG('o', 'p', 'b', 'd'), TAG('p', 'r', 'o', 'p'), TAG('t', 'r', 'a', 'k'),
    TAG('Z', 'a', 'p', 'f'), TAG('S', 'i', 'l', 'f'), TAG('G', 'l', 'a', 't'),
    TAG('G', 'l', 'o', 'c'), TAG('F', 'e', 'a', 't'), TAG('S', 'i', 'l', 'l'),
};

static enum sx_status check_woff2(const uint8_t *data, size_t size, struct font_checks *checks,
				  struct sx_result *result)
{
	if (size < 48)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF2: %zu bytes, no header", size);
	uint32_t flavor = sx_get_be32(data + 4);
	uint32_t length = sx_get_be32(data + 8);
	unsigned n = sx_get_be16(data + 12);
	uint32_t compressed = sx_get_be32(data + 20);
	if (length != size)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WOFF2: header says %u bytes, file has %zu", length, size);
	if (n == 0 || n > SX_FONT_MAX_TABLES)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF2: %u tables", n);
	if (sx_get_be16(data + 14) != 0)
		return sx_fail(result, SX_ERR_BAD_INPUT, "WOFF2: reserved field is not 0");
	size_t pos = 48;
	uint64_t decompressed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (pos >= size)
			return sx_fail(result, SX_ERR_BAD_INPUT,
				       "WOFF2: directory runs past the end");
		uint8_t flags = data[pos++];
		uint32_t tag;
		if ((flags & 0x3F) == 0x3F) {
			if (pos + 4 > size)
				return sx_fail(result, SX_ERR_BAD_INPUT,
					       "WOFF2: directory runs past the end");
			tag = sx_get_be32(data + pos);
			pos += 4;
			if (!printable_tag(tag))
				return sx_fail(result, SX_ERR_BAD_INPUT,
					       "WOFF2: record %u has a tag that is not ASCII", i);
		} else {
			tag = woff2_known_tags[flags & 0x3F];
		}
		unsigned version = flags >> 6;
		bool glyf_loca = tag == TAG('g', 'l', 'y', 'f') || tag == TAG('l', 'o', 'c', 'a');
		bool transformed = glyf_loca ? version == 0 : version != 0;
		uint32_t orig, stored;
		if (!read_base128(data, size, &pos, &orig))
			return bad(result, tag, "WOFF2 origLength is not a valid UIntBase128");
		stored = orig;
		if (transformed && !read_base128(data, size, &pos, &stored))
			return bad(result, tag, "WOFF2 transformLength is not a valid UIntBase128");
		if (tag == TAG('l', 'o', 'c', 'a') && transformed && stored != 0)
			return bad(result, tag,
				   "WOFF2 transformed loca must have transformLength 0");
		if (orig > SX_FONT_MAX_TABLE_BYTES || stored > SX_FONT_MAX_TABLE_BYTES)
			return bad(result, tag,
				   "WOFF2 table declares more bytes than sx-font reads");
		if (i < SX_FONT_MAX_TABLES)
			checks->declared[i] =
			    (struct font_declared){glyf_loca && transformed ? 0 : tag, orig};
		if (glyf_loca && transformed)
			checks->loca_rebuilt = true;
		decompressed += stored;
	}
	if (flavor == TAG('t', 't', 'c', 'f')) {
		/* The collection directory follows; its face records are FreeType's to read. */
		checks->num_declared = 0;
	} else {
		checks->num_declared = n;
		if ((uint64_t)pos + compressed > size)
			return sx_fail(result, SX_ERR_BAD_INPUT,
				       "WOFF2: %u compressed bytes after the directory, past the "
				       "%zu-byte file",
				       compressed, size);
	}
	if (decompressed > SX_FONT_MAX_TABLE_BYTES * 4ull)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "WOFF2: tables declare %llu bytes decompressed",
			       (unsigned long long)decompressed);
	checks->sfnt_version = flavor;
	checks->num_tables = n;
	return SX_OK;
}

enum sx_status font_validate_container(const uint8_t *data, size_t size, unsigned face,
				       struct font_checks *checks, struct sx_result *result)
{
	memset(checks, 0, sizeof *checks);
	checks->checksum_mismatches = -1;
	checks->num_faces = 1;
	uint32_t magic = size >= 4 ? sx_get_be32(data) : 0;
	enum sx_status status;
	if (magic == TAG('t', 't', 'c', 'f'))
		status = check_collection(data, size, face, checks, result);
	else if (magic == TAG('w', 'O', 'F', 'F'))
		status = check_woff(data, size, checks, result);
	else if (magic == TAG('w', 'O', 'F', '2'))
		status = check_woff2(data, size, checks, result);
	else
		status = check_sfnt_directory(data, size, 0, 0, checks, result);
	if (status == SX_OK && magic != TAG('t', 't', 'c', 'f') &&
	    magic != TAG('w', 'O', 'F', '2') && face > 0)
		status =
		    sx_fail(result, SX_ERR_BAD_REQUEST, "face %u requested; the font has 1", face);
	return status;
}

/* --- the tables, read through FreeType (decompressed for WOFF and WOFF2) --- */

struct table {
	uint8_t *p;
	FT_ULong len;
	bool present;
};

/* Loads a table into malloc'd memory (absent: present false). Tables of glyph data are
 * only measured (`measure_only`), never copied. */
static enum sx_status load_table(FT_Face face, uint32_t tag, bool measure_only, struct table *t,
				 struct sx_result *result)
{
	*t = (struct table){NULL, 0, false};
	FT_ULong len = 0;
	if (FT_Load_Sfnt_Table(face, tag, 0, NULL, &len) != 0)
		return SX_OK;
	t->present = true;
	t->len = len;
	if (measure_only || len == 0)
		return SX_OK;
	if (len > SX_FONT_MAX_TABLE_BYTES)
		return bad(result, tag, "table larger than sx-font reads");
	t->p = malloc(len);
	if (!t->p)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a font table");
	if (FT_Load_Sfnt_Table(face, tag, 0, t->p, &len) != 0)
		return bad(result, tag, "table cannot be read");
	return SX_OK;
}

struct tables {
	struct table head, hhea, maxp, hmtx, loca, glyf, cmap, name, post, os2, cff, cff2, cbdt,
	    cblc, sbix, ebdt, eblc, colr, cpal;
};

static void free_tables(struct tables *t)
{
	struct table *all[] = {&t->head, &t->hhea, &t->maxp, &t->hmtx, &t->loca,
			       &t->cmap, &t->name, &t->post, &t->os2};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]->p);
}

#define NEED(t, tag, min, what)                                                                    \
	do {                                                                                       \
		if (!(t).present)                                                                  \
			return bad(result, tag, "required table missing");                         \
		if ((t).len < (min))                                                               \
			return bad(result, tag, what);                                             \
	} while (0)

static enum sx_status check_loca(const struct tables *t, unsigned num_glyphs, int long_loca,
				 struct sx_result *result)
{
	uint32_t tag = TAG('l', 'o', 'c', 'a');
	char why[160];
	uint64_t need = ((uint64_t)num_glyphs + 1) * (long_loca ? 4 : 2);
	if (t->loca.len < need) {
		snprintf(why, sizeof why, "%lu bytes, %llu needed for %u glyphs",
			 (unsigned long)t->loca.len, (unsigned long long)need, num_glyphs);
		return bad(result, tag, why);
	}
	uint64_t prev = 0;
	for (unsigned i = 0; i <= num_glyphs; i++) {
		uint64_t off = long_loca ? sx_get_be32(t->loca.p + 4 * i)
					 : 2ull * sx_get_be16(t->loca.p + 2 * i);
		if (off < prev) {
			snprintf(why, sizeof why,
				 "offset of glyph %u (%llu) before that of glyph %u", i,
				 (unsigned long long)off, i - 1);
			return bad(result, tag, why);
		}
		if (off > t->glyf.len) {
			snprintf(why, sizeof why,
				 "offset of glyph %u (%llu) past the end of glyf "
				 "(%lu bytes)",
				 i, (unsigned long long)off, (unsigned long)t->glyf.len);
			return bad(result, tag, why);
		}
		prev = off;
	}
	return SX_OK;
}

static enum sx_status check_cmap(const struct table *cmap, struct sx_result *result)
{
	uint32_t tag = TAG('c', 'm', 'a', 'p');
	if (sx_get_be16(cmap->p) != 0)
		return bad(result, tag, "version is not 0");
	unsigned n = sx_get_be16(cmap->p + 2);
	if (n == 0)
		return bad(result, tag, "no encoding record");
	if (4 + 8ull * n > cmap->len)
		return bad(result, tag, "encoding records run past the end of the table");
	for (unsigned i = 0; i < n; i++) {
		uint32_t off = sx_get_be32(cmap->p + 4 + 8 * i + 4);
		if (off < 4 + 8ull * n || (uint64_t)off + 4 > cmap->len)
			return bad(result, tag, "a subtable offset points outside the table");
		unsigned format = sx_get_be16(cmap->p + off);
		if (format > 14 || format % 2 == 1)
			return bad(result, tag, "a subtable has an unknown format");
	}
	return SX_OK;
}

static enum sx_status check_name(const struct table *name, struct sx_result *result)
{
	uint32_t tag = TAG('n', 'a', 'm', 'e');
	unsigned format = sx_get_be16(name->p), count = sx_get_be16(name->p + 2);
	unsigned storage = sx_get_be16(name->p + 4);
	if (format > 1)
		return bad(result, tag, "format is neither 0 nor 1");
	if (6 + 12ull * count > name->len || storage > name->len)
		return bad(result, tag, "records or string storage run past the end of the table");
	return SX_OK;
}

static enum sx_status check_tables(FT_Face face, struct tables *t, struct font_checks *checks,
				   struct sx_result *result)
{
	enum sx_status status;
	struct {
		struct table *t;
		uint32_t tag;
		bool measure_only;
	} want[] = {
	    {&t->head, TAG('h', 'e', 'a', 'd'), false}, {&t->hhea, TAG('h', 'h', 'e', 'a'), false},
	    {&t->maxp, TAG('m', 'a', 'x', 'p'), false}, {&t->hmtx, TAG('h', 'm', 't', 'x'), true},
	    {&t->loca, TAG('l', 'o', 'c', 'a'), false}, {&t->glyf, TAG('g', 'l', 'y', 'f'), true},
	    {&t->cmap, TAG('c', 'm', 'a', 'p'), false}, {&t->name, TAG('n', 'a', 'm', 'e'), false},
	    {&t->post, TAG('p', 'o', 's', 't'), false}, {&t->os2, TAG('O', 'S', '/', '2'), false},
	    {&t->cff, TAG('C', 'F', 'F', ' '), true},	{&t->cff2, TAG('C', 'F', 'F', '2'), true},
	    {&t->cbdt, TAG('C', 'B', 'D', 'T'), true},	{&t->cblc, TAG('C', 'B', 'L', 'C'), true},
	    {&t->sbix, TAG('s', 'b', 'i', 'x'), true},	{&t->ebdt, TAG('E', 'B', 'D', 'T'), true},
	    {&t->eblc, TAG('E', 'B', 'L', 'C'), true},	{&t->colr, TAG('C', 'O', 'L', 'R'), true},
	    {&t->cpal, TAG('C', 'P', 'A', 'L'), true},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if ((status = load_table(face, want[i].tag, want[i].measure_only, want[i].t,
					 result)) != SX_OK)
			return status;

	/* WOFF and WOFF2 tables decompressed to exactly the size their directory declares. */
	for (unsigned i = 0; i < checks->num_declared && i < SX_FONT_MAX_TABLES; i++) {
		const struct font_declared *d = &checks->declared[i];
		FT_ULong len = 0;
		if (d->tag == 0 || FT_Load_Sfnt_Table(face, d->tag, 0, NULL, &len) != 0)
			continue;
		if (len != d->length) {
			char why[120];
			snprintf(why, sizeof why, "decompressed to %lu bytes, declared %u",
				 (unsigned long)len, d->length);
			return bad(result, d->tag, why);
		}
	}

	NEED(t->head, TAG('h', 'e', 'a', 'd'), 54, "shorter than 54 bytes");
	if (sx_get_be16(t->head.p) != 1)
		return bad(result, TAG('h', 'e', 'a', 'd'), "major version is not 1");
	if (sx_get_be32(t->head.p + 12) != 0x5F0F3CF5)
		return bad(result, TAG('h', 'e', 'a', 'd'), "bad magic number");
	unsigned upem = sx_get_be16(t->head.p + 18);
	if (upem < 16 || upem > 16384)
		return bad(result, TAG('h', 'e', 'a', 'd'), "unitsPerEm outside 16..16384");
	checks->units_per_em = upem;
	int loca_format = (int16_t)sx_get_be16(t->head.p + 50);
	if (loca_format != 0 && loca_format != 1)
		return bad(result, TAG('h', 'e', 'a', 'd'), "indexToLocFormat is neither 0 nor 1");

	NEED(t->maxp, TAG('m', 'a', 'x', 'p'), 6, "shorter than 6 bytes");
	uint32_t maxp_version = sx_get_be32(t->maxp.p);
	if (maxp_version != 0x00005000 && !(maxp_version == 0x00010000 && t->maxp.len >= 32))
		return bad(result, TAG('m', 'a', 'x', 'p'),
			   "version is neither 0.5 nor 1.0 (32 bytes)");
	unsigned num_glyphs = sx_get_be16(t->maxp.p + 4);
	if (num_glyphs == 0)
		return bad(result, TAG('m', 'a', 'x', 'p'), "numGlyphs is 0");

	NEED(t->hhea, TAG('h', 'h', 'e', 'a'), 36, "shorter than 36 bytes");
	if (sx_get_be16(t->hhea.p) != 1)
		return bad(result, TAG('h', 'h', 'e', 'a'), "major version is not 1");
	unsigned metrics = sx_get_be16(t->hhea.p + 34);
	if (metrics == 0 || metrics > num_glyphs)
		return bad(result, TAG('h', 'h', 'e', 'a'),
			   "numberOfHMetrics is 0 or more than maxp.numGlyphs");

	if (!t->hmtx.present)
		return bad(result, TAG('h', 'm', 't', 'x'), "required table missing");
	uint64_t hmtx_need = 4ull * metrics + 2ull * (num_glyphs - metrics);
	if (t->hmtx.len < hmtx_need) {
		char why[160];
		snprintf(why, sizeof why, "%lu bytes, %llu needed for %u metrics and %u glyphs",
			 (unsigned long)t->hmtx.len, (unsigned long long)hmtx_need, metrics,
			 num_glyphs);
		return bad(result, TAG('h', 'm', 't', 'x'), why);
	}

	bool tt = t->glyf.present || t->loca.present;
	bool ps = t->cff.present || t->cff2.present;
	bool bitmaps = (t->cbdt.present && t->cblc.present) || t->sbix.present ||
		       (t->ebdt.present && t->eblc.present);
	if (tt && ps)
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "glyf: the font holds both TrueType (glyf) and CFF outlines");
	if (ps && checks->sfnt_version != TAG('O', 'T', 'T', 'O'))
		return bad(result,
			   t->cff.present ? TAG('C', 'F', 'F', ' ') : TAG('C', 'F', 'F', '2'),
			   "CFF outlines in a font whose sfnt version is not OTTO");
	if (tt) {
		if (!t->glyf.present)
			return bad(result, TAG('g', 'l', 'y', 'f'), "loca without glyf");
		if (!t->loca.present)
			return bad(result, TAG('l', 'o', 'c', 'a'), "glyf without loca");
		/* A transformed WOFF2 glyf stores no loca: FreeType's rebuilt one is not the
		 * file's claim (and FreeType 2.12 sizes it past glyf's end, glyphs intact). */
		if (!checks->loca_rebuilt &&
		    (status = check_loca(t, num_glyphs, loca_format, result)) != SX_OK)
			return status;
	} else if (!ps && !bitmaps) {
		return sx_fail(result, SX_ERR_BAD_INPUT,
			       "glyf: no glyph data (neither glyf+loca, CFF, CFF2 nor colour or "
			       "bitmap strikes)");
	}

	NEED(t->cmap, TAG('c', 'm', 'a', 'p'), 4, "shorter than 4 bytes");
	if ((status = check_cmap(&t->cmap, result)) != SX_OK)
		return status;
	NEED(t->name, TAG('n', 'a', 'm', 'e'), 6, "shorter than 6 bytes");
	if ((status = check_name(&t->name, result)) != SX_OK)
		return status;
	NEED(t->post, TAG('p', 'o', 's', 't'), 32, "shorter than 32 bytes");
	uint32_t post_version = sx_get_be32(t->post.p);
	if (post_version != 0x00010000 && post_version != 0x00020000 &&
	    post_version != 0x00025000 && post_version != 0x00030000 && post_version != 0x00040000)
		return bad(result, TAG('p', 'o', 's', 't'), "unknown version");
	if (checks->sfnt_version == TAG('O', 'T', 'T', 'O') || t->os2.present) {
		NEED(t->os2, TAG('O', 'S', '/', '2'), 78, "shorter than 78 bytes (version 0)");
		if (sx_get_be16(t->os2.p) > 5)
			return bad(result, TAG('O', 'S', '/', '2'), "version above 5");
	}
	if (t->colr.present && !t->cpal.present)
		return bad(result, TAG('C', 'P', 'A', 'L'), "required by COLR, missing");
	checks->glyph_store = tt		? "glyf"
			      : t->cff2.present ? "CFF2"
			      : t->cff.present	? "CFF"
			      : t->cbdt.present ? "CBDT"
			      : t->sbix.present ? "sbix"
						: "EBDT";
	return SX_OK;
}

enum sx_status font_validate_tables(FT_Face face, struct font_checks *checks,
				    struct sx_result *result)
{
	if (!FT_IS_SFNT(face))
		return sx_fail(result, SX_ERR_BAD_INPUT, "table directory: not an sfnt font");
	struct tables t;
	memset(&t, 0, sizeof t);
	enum sx_status status = check_tables(face, &t, checks, result);
	free_tables(&t);
	return status;
}
