/* video_core.h: the sx-video family (H.264, HEVC, VP8, VP9 through FFmpeg; AV1 through
 * libdav1d, single-threaded).
 *
 * sx_video_family (sx_family.h) is the descriptor main(), the fork server and the fuzz
 * harness take. Its decode core has the shared contract of sx_extract.h: it touches only
 * its arguments, makes no syscalls, allocates through malloc (FFmpeg's av_malloc ends in
 * posix_memalign, which the pool serves), frees all it allocated but the pixels it hands
 * back, and may run after the strict line or in-process in tests and fuzz harnesses.
 * libavformat reads only the memory it is given, through a custom AVIOContext: no file,
 * protocol or nested input can be opened. The container is chosen by content among
 * MP4/MOV, Matroska/WebM, MPEG-TS, IVF and raw H.264/HEVC only, by those demuxers' own
 * probes; anything else is SX_ERR_UNSUPPORTED before any demuxer reads a header. Every
 * mode decodes the first picture (so a probe answer means the video decodes); streams
 * other than the chosen video one are discarded unread, and no other decoder is
 * ever opened.
 *
 * Its warm-up (before the strict line, once) silences av_log, then runs every lazy
 * initialisation FFmpeg would otherwise do on first use (pthread_once blocks end in futex,
 * which strict mode kills): codec and parser tables, CRC tables, a swscale context for
 * every pixel format the core accepts (SDR and PQ), the HDR tables, and every
 * decoder through built-in clips in every
 * container, mode and layout. Without it (a harness that skips it), FFmpeg logs to stderr.
 */
#ifndef VIDEO_CORE_H
#define VIDEO_CORE_H

#include "sx_family.h"

extern const struct sx_family sx_video_family;

#endif
