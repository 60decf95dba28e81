/* mp4_boxes.c: a walk over the top-level boxes of an MP4/MOV before libavformat sees it,
 * for what the mov demuxer forgives: a moov box (the index) that ends past the end of the
 * file. The demuxer reads such a moov up to the end and either accepts it (a size field
 * of 0xFFFFFFF0 on a complete moov) or returns a half-read track without a codec, which
 * would be reported "unsupported": both are truncated or corrupt input. */
#include <stdint.h>

#include "sx_bytes.h"
#include "video_internal.h"

enum sx_status check_mp4_boxes(const uint8_t *data, size_t size, struct sx_result *result)
{
	size_t at = 0;
	for (unsigned n = 0; n < SX_VIDEO_MAX_TOP_BOXES && size - at >= 8; n++) {
		uint64_t box = sx_get_be32(data + at);
		size_t header = 8;
		if (box == 1) {
			if (size - at < 16)
				break;
			box = sx_get_be64(data + at + 8);
			header = 16;
		} else if (box == 0) {
			box = size - at; /* "to the end of the file" */
		}
		if (box < header)
			break; /* malformed: the demuxer judges it */
		int moov = data[at + 4] == 'm' && data[at + 5] == 'o' && data[at + 6] == 'o' &&
			   data[at + 7] == 'v';
		if (box > size - at) {
			if (moov)
				return sx_fail(result, SX_ERR_BAD_INPUT,
					       "the moov box claims %llu bytes, the file has %zu "
					       "from there (truncated or corrupt)",
					       (unsigned long long)box, size - at);
			break; /* a cut mdat: the decoder says how much of it is usable */
		}
		at += (size_t)box;
	}
	return SX_OK;
}
