/* heif_codecs.h: libheif decoder plugins that decode HEVC and AV1 coded images in the
 * calling thread, through libavcodec (FFmpeg's hevc decoder; libdav1d through FFmpeg's
 * wrapper), replacing Debian libheif 1.15's built-in libde265 plugin (strace: one clone3
 * per decode, a worker thread) and dav1d plugin (sched_getaffinity, then two clone3: a
 * pool sized from the CPU count). Both are a SIGKILL after the strict line.
 *
 * Phases:
 * - heif_codecs_register() before the line only (the family's `prepare`): registers both
 *   plugins with libheif at a priority above the built-in ones.
 * - heif_codecs_set_max_pixels() and the plugins themselves are decode-core code (memory
 *   through malloc, no syscalls once the decoders were opened once in the warm-up).
 *
 * Failure: a decoder error is a heif_error_Decoder_plugin_error; a coded picture over the
 * pixel cap is refused by libavcodec before it allocates the picture.
 */
#ifndef HEIF_CODECS_H
#define HEIF_CODECS_H

#include <stdbool.h>
#include <stdint.h>

/* false: libheif refused a plugin. */
bool heif_codecs_register(void);

/* The largest coded picture (width * height) a plugin decodes from now on. */
void heif_codecs_set_max_pixels(uint64_t max_pixels);

/* Names of the plugins' ids, for decoding options and the probe. */
#define HEIF_CODECS_HEVC_ID "sx-avcodec-hevc"
#define HEIF_CODECS_AV1_ID "sx-avcodec-dav1d"

#endif
