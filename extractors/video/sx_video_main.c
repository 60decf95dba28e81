/* sx_video_main.c: the sx-video executable: H.264 and HEVC in seccomp strict mode.
 * main() is the lifecycle of one extraction; the decoding itself is in video_core.c. */
#include "sx_answer.h"
#include "sx_setup.h"
#include "sx_strict.h"
#include "sx_zygote.h"
#include "video_core.h"

static const char summary[] =
	"Reads H.264 or HEVC video (FFmpeg) from MP4/MOV, Matroska/WebM, MPEG-TS or a raw\n"
	"Annex B stream, chosen by content through those demuxers' probes only; anything\n"
	"else (playlists, other codecs, audio-only files, images...) is answered\n"
	"'unsupported'. No file or protocol other than the input can be opened. --probe\n"
	"returns format, container, codec, profile, level, width, height, aspect ratios,\n"
	"display size, rotation, duration, frame_rate, frame_count, bit_depth, pix_fmt and\n"
	"has_audio. Image answers are the first decodable picture, 8-bit RGBA (or RGB),\n"
	"rotation applied; thumbnails fit the display aspect into the box (area filter).";

/* Static: a result holds a 64 KiB metadata buffer. */
static struct sx_result result;

int main(int argc, char **argv)
{
	struct sx_request req;
	struct sx_input in;

	/* 0. Fork server (trusted): with --server FD this process becomes a zygote and only
	 * returns in a forked child, with that request's argv and fds; else nothing happens. */
	sx_zygote_serve_if_asked(&argc, &argv, sx_video_warm_up);

	/* 1. Setup (trusted): request, pool cap, input in memory, fds closed, rlimits. */
	enum sx_status status = sx_setup(argc, argv, "sx-video", summary, &req, &in, &result);

	/* 2. Warm-up (trusted): every lazy init of libavformat, libavcodec and libswscale,
	 * and av_log silenced, done now. */
	sx_video_warm_up();

	/* 3. The strict line: from here on only read, write and exit. */
	SX_ENTER_STRICT_MODE(SX_ANSWER_FD);

	/* 4. Extract (untrusted). */
	if (status == SX_OK)
		status = sx_video_extract(&req, in.data, in.size, &result);

	/* 5. Answer, and leave through the raw exit syscall. */
	sx_exit(sx_answer_result(SX_ANSWER_FD, status, &result));
}
