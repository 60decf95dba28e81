/* video_errors.c: FFmpeg error codes as the statuses and static texts of our answers. */
#include <libavutil/error.h>

#include "video_internal.h"

/* Static texts: av_strerror() may go through strerror_r and the locale machinery. */
const char *video_error_text(int err)
{
	switch (err) {
	case AVERROR_INVALIDDATA: return "invalid data";
	case AVERROR_EOF: return "the data ends early";
	case AVERROR(ENOMEM): return "out of memory";
	case AVERROR(EINVAL): return "invalid value";
	case AVERROR(EPERM): return "not permitted";
	case AVERROR(ENOSYS):
	case AVERROR_PATCHWELCOME: return "a feature FFmpeg does not implement";
	case AVERROR_DECODER_NOT_FOUND: return "no decoder";
	case AVERROR_DEMUXER_NOT_FOUND: return "no demuxer";
	default: return "error";
	}
}

static enum sx_status status_for(int err)
{
	switch (err) {
	case AVERROR(ENOMEM): return SX_ERR_NO_MEMORY;
	case AVERROR(ENOSYS):
	case AVERROR_PATCHWELCOME:
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_DEMUXER_NOT_FOUND: return SX_ERR_UNSUPPORTED;
	default: return SX_ERR_BAD_INPUT;
	}
}

enum sx_status fail_av(struct sx_result *result, int err, const char *what)
{
	return sx_fail(result, status_for(err), "%s: %s", what, video_error_text(err));
}
