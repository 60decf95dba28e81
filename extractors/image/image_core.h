/* image_core.h: the decode core of sx-image (JPEG and PNG) and its warm-up.
 *
 * sx_image_extract() has the shared decode-core contract of sx_extract.h: it touches only
 * its arguments, makes no syscalls, and may run after the strict line or in-process in
 * tests and fuzz harnesses. The format comes from magic bytes only; anything that is not
 * JPEG or PNG is SX_ERR_UNSUPPORTED before any decoder sees it.
 *
 * sx_image_warm_up() runs before the strict line: it decodes tiny built-in JPEG and PNG
 * images through every path so each library's lazy initialisation is already done. Only
 * the first call does work: a fork-server child, forked from a warm zygote, gets it free.
 */
#ifndef IMAGE_CORE_H
#define IMAGE_CORE_H

#include "sx_extract.h"

enum sx_status sx_image_extract(const struct sx_request *req, const uint8_t *data, size_t size,
				struct sx_result *result);
void sx_image_warm_up(void);

#endif
