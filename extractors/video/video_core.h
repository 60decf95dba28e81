/* video_core.h: the decode core of sx-video (H.264 and HEVC through FFmpeg) and its
 * warm-up.
 *
 * sx_video_extract() has the shared decode-core contract of sx_extract.h: it touches only
 * its arguments, makes no syscalls, allocates through malloc (FFmpeg's av_malloc ends in
 * posix_memalign, which the pool serves), frees all it allocated but the pixels it hands
 * back, and may run after the strict line or in-process in tests and fuzz harnesses.
 * libavformat reads only the memory it is given, through a custom AVIOContext: no file,
 * protocol or nested input can be opened. The container is chosen by content among
 * MP4/MOV, Matroska/WebM, MPEG-TS and raw H.264/HEVC only, by those demuxers' own
 * probes; anything else is SX_ERR_UNSUPPORTED before any demuxer reads a header. Every
 * mode decodes the first picture (so a probe answer means the video decodes); streams
 * other than the chosen H.264/HEVC one are discarded unread, and no other decoder is
 * ever opened. Without the warm-up (fuzz harnesses), FFmpeg still logs to stderr.
 *
 * sx_video_warm_up() runs before the strict line, once: it silences av_log, then runs
 * every lazy initialisation FFmpeg would otherwise do on first use (pthread_once blocks
 * end in futex, which strict mode kills): codec and parser tables, CRC tables, both
 * decoders through built-in clips in every container and mode, and a swscale context for
 * every pixel format the core accepts. Only the first call does work: a fork-server
 * child, forked from a warm zygote, gets it free.
 */
#ifndef VIDEO_CORE_H
#define VIDEO_CORE_H

#include "sx_extract.h"

enum sx_status sx_video_extract(const struct sx_request *req, const uint8_t *data, size_t size,
				struct sx_result *result);
void sx_video_warm_up(void);

#endif
