/* sx_meta.c: builds metadata records in wire format (PROTOCOL.md, type 2). */
#include "sx_meta.h"

#include <math.h>
#include <string.h>

#include "sx_bytes.h"
#include "sx_utf8.h"
#include "sx_wire.h"

void sx_meta_init(struct sx_meta *m)
{
	m->len = 0;
	m->count = 0;
	m->broken = false;
}

bool sx_meta_ok(const struct sx_meta *m)
{
	return !m->broken && m->count > 0;
}

static bool key_is_valid(const char *key, size_t len)
{
	if (len == 0 || len > SX_META_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Walks the fields already written; true when `key` is among them. */
static bool key_is_present(const struct sx_meta *m, const char *key, size_t klen)
{
	size_t off = 0;
	while (off < m->len) {
		size_t len = m->buf[off];
		const uint8_t *k = m->buf + off + 1;
		uint8_t vtype = m->buf[off + 1 + len];
		if (len == klen && memcmp(k, key, klen) == 0)
			return true;
		off += 2 + len;
		switch (vtype) {
		case SX_WIRE_VTYPE_INT:
		case SX_WIRE_VTYPE_FLOAT: off += 8; break;
		case SX_WIRE_VTYPE_BOOL: off += 1; break;
		default: off += 2 + (size_t)(m->buf[off] | (m->buf[off + 1] << 8)); break;
		}
	}
	return false;
}

/* Reserves room for one field with `value_bytes` of value; returns where the value goes. */
static uint8_t *begin_field(struct sx_meta *m, const char *key, uint8_t vtype, size_t value_bytes)
{
	if (m->broken)
		return NULL;
	size_t klen = strlen(key);
	if (!key_is_valid(key, klen) || m->count >= SX_META_MAX_FIELDS ||
	    key_is_present(m, key, klen) ||
	    /* The payload is the 2-byte field count plus the fields: all of it within the cap. */
	    2 + m->len + 2 + klen + value_bytes > SX_META_MAX_BYTES) {
		m->broken = true;
		return NULL;
	}
	uint8_t *p = m->buf + m->len;
	p[0] = (uint8_t)klen;
	memcpy(p + 1, key, klen);
	p[1 + klen] = vtype;
	m->len += 2 + klen + value_bytes;
	m->count++;
	return p + 2 + klen;
}

void sx_meta_add_int(struct sx_meta *m, const char *key, int64_t value)
{
	uint8_t *p = begin_field(m, key, SX_WIRE_VTYPE_INT, 8);
	if (p)
		sx_put_le64(p, (uint64_t)value);
}

void sx_meta_add_float(struct sx_meta *m, const char *key, double value)
{
	if (!isfinite(value)) {
		m->broken = true;
		return;
	}
	uint8_t *p = begin_field(m, key, SX_WIRE_VTYPE_FLOAT, 8);
	if (p) {
		uint64_t bits;
		memcpy(&bits, &value, sizeof bits);
		sx_put_le64(p, bits);
	}
}

void sx_meta_add_bool(struct sx_meta *m, const char *key, bool value)
{
	uint8_t *p = begin_field(m, key, SX_WIRE_VTYPE_BOOL, 1);
	if (p)
		p[0] = value ? 1 : 0;
}

void sx_meta_add_string(struct sx_meta *m, const char *key, const char *value, size_t len)
{
	const uint8_t *s = (const uint8_t *)value;
	uint8_t tmp[SX_META_STRING_MAX];
	size_t out = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = sx_utf8_decode(s + i, len - i, &cp);
		size_t take = n ? n : 1;
		if (out + (n ? n : 1) > sizeof tmp)
			break;
		if (n)
			memcpy(tmp + out, s + i, n);
		else
			tmp[out] = '?';
		out += n ? n : 1;
		i += take;
	}
	uint8_t *p = begin_field(m, key, SX_WIRE_VTYPE_STRING, 2 + out);
	if (p) {
		sx_put_le16(p, (uint16_t)out);
		memcpy(p + 2, tmp, out);
	}
}

void sx_meta_add_cstring(struct sx_meta *m, const char *key, const char *value)
{
	sx_meta_add_string(m, key, value, strlen(value));
}
