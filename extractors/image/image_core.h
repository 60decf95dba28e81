/* image_core.h: the sx-image family (JPEG, PNG/APNG, WebP, GIF).
 *
 * sx_image_family (sx_family.h) is the descriptor main(), the fork server and the fuzz
 * harnesses take. Its decode core has the shared contract of sx_extract.h (it needs no
 * warm context): it touches only its arguments, makes no syscalls, and may run after the
 * strict line or in-process in tests and fuzz harnesses. The format comes from magic
 * bytes only; anything that is not JPEG, PNG, WebP or GIF is SX_ERR_UNSUPPORTED before any decoder
 * sees it. Its warm-up decodes tiny built-in JPEG, PNG, WebP and GIF images (warm_images.c) through
 * every mode, so each library's lazy initialisation is done before the line.
 */
#ifndef IMAGE_CORE_H
#define IMAGE_CORE_H

#include "sx_family.h"

extern const struct sx_family sx_image_family;

#endif
