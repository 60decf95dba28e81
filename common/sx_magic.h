/* sx_magic.h: names what an input looks like from its first bytes, for error details
 * ("not a JPEG or PNG file (looks like GIF)"). One table for every extractor.
 *
 * Phase: any. Pure function; never decides how a file is read: each extractor's own
 * sniffing does that, before and independently of this.
 */
#ifndef SX_MAGIC_H
#define SX_MAGIC_H

#include <stddef.h>
#include <stdint.h>

/* A static, short noun ("GIF", "SVG/XML", "HLS playlist", "BDF bitmap font"...), or
 * "unknown data". Text formats are recognised after a UTF-8 BOM and leading whitespace. */
const char *sx_magic_describe(const uint8_t *data, size_t size);

#endif
