/* sx_utf8.h: the one UTF-8 decoder of the extractors (metadata strings, font samples).
 *
 * Phase: any. Pure function, no allocation.
 */
#ifndef SX_UTF8_H
#define SX_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s[0], of which `avail` bytes are
 * there, with its code point in *cp; 0 (and *cp 0) when it is not well formed: a stray
 * continuation byte, a sequence cut short, an overlong form, a surrogate, or past
 * U+10FFFF. `avail` must be at least 1. */
size_t sx_utf8_decode(const uint8_t *s, size_t avail, uint32_t *cp);

#endif
