/* sx_meta.h: a metadata record built in place, in wire format, with no allocation.
 *
 * Phase: any. A struct sx_meta owns its fixed buffer. Adding a field that does not fit
 * (too many fields, key or string too long, buffer full, duplicate key, invalid key)
 * marks the record as broken instead of truncating it: sx_meta_ok() then returns false
 * and the extractor must answer SX_ERR_INTERNAL, never a partial record.
 * Strings longer than SX_META_STRING_MAX are cut at that length on a UTF-8 boundary
 * (file-provided names may be long; a cut name is still an honest prefix).
 */
#ifndef SX_META_H
#define SX_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sx_limits.h"

struct sx_meta {
	uint8_t buf[SX_META_MAX_BYTES];
	size_t len;
	unsigned count;
	bool broken;
};

void sx_meta_init(struct sx_meta *m);
void sx_meta_add_int(struct sx_meta *m, const char *key, int64_t value);
void sx_meta_add_float(struct sx_meta *m, const char *key, double value);
void sx_meta_add_bool(struct sx_meta *m, const char *key, bool value);
/* `value` need not be NUL-terminated; `len` bytes are taken, invalid UTF-8 is replaced
 * by '?'. */
void sx_meta_add_string(struct sx_meta *m, const char *key, const char *value, size_t len);
void sx_meta_add_cstring(struct sx_meta *m, const char *key, const char *value);
bool sx_meta_ok(const struct sx_meta *m);

#endif
