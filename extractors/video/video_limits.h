/* video_limits.h: the caps sx-video adds to common/sx_limits.h.
 *
 * Phase: any. Compile-time constants only; nothing read from the input changes them.
 * They live here until the lead moves them into sx_limits.h (they are candidates).
 */
#ifndef VIDEO_LIMITS_H
#define VIDEO_LIMITS_H

#include <stdint.h>

/* Content probing: the first bytes handed to the whitelisted demuxers' probes, growing
 * from MIN to MAX like libavformat's own av_probe_input_buffer2() (PROBE_BUF_MIN/MAX). */
#define SX_VIDEO_PROBE_MIN_BYTES 2048u
#define SX_VIDEO_PROBE_MAX_BYTES ((uint32_t)1 << 20)

/* The AVIOContext buffer over the in-memory input. */
#define SX_VIDEO_IO_BUFFER_BYTES ((uint32_t)32 << 10)

/* Streams a container may declare before libavformat refuses it (its default is 1000). */
#define SX_VIDEO_MAX_STREAMS 64

/* Looking for the first decodable frame: give up after this many video packets or this
 * many bytes of them, whichever comes first (undecodable leading packets are skipped). */
#define SX_VIDEO_MAX_PACKETS 1000u
#define SX_VIDEO_MAX_PACKET_BYTES ((uint64_t)64 << 20)

/* MPEG-TS duration (probe only): the timestamps in this many bytes at the end of the
 * input, at most SX_VIDEO_MAX_PACKETS packets of them. */
#define SX_VIDEO_TAIL_BYTES ((uint64_t)1 << 20)

#endif
