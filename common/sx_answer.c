/* sx_answer.c: the answer writer; the only code that writes to fd 1 after the line. */
#include "sx_answer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sx_bytes.h"
#include "sx_size.h"
#include "sx_wire.h"

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		/* Pipes take at most their capacity per call: loop until all is out. */
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void fill_header(uint8_t h[SX_WIRE_HEADER_BYTES], unsigned type, uint32_t payload)
{
	memcpy(h, SX_WIRE_MAGIC, 4);
	sx_put_le16(h + 4, SX_WIRE_VERSION);
	sx_put_le16(h + 6, (uint16_t)type);
	sx_put_le32(h + 8, payload);
}

bool sx_answer_error(int fd, enum sx_status status, const char *detail)
{
	if (status == SX_OK)
		status = SX_ERR_INTERNAL;
	if (!detail || !detail[0])
		detail = sx_status_message(status);
	size_t dlen = strnlen(detail, SX_DETAIL_MAX);
	uint8_t msg[SX_WIRE_HEADER_BYTES + SX_WIRE_ERROR_FIXED_BYTES + SX_DETAIL_MAX];
	fill_header(msg, SX_WIRE_TYPE_ERROR, (uint32_t)(SX_WIRE_ERROR_FIXED_BYTES + dlen));
	sx_put_le32(msg + SX_WIRE_HEADER_BYTES, (uint32_t)status);
	sx_put_le16(msg + SX_WIRE_HEADER_BYTES + 4, (uint16_t)dlen);
	/* Details may quote library messages and are cut to fit: keep them printable ASCII so
	 * the text is valid UTF-8 however it was cut. */
	uint8_t *d = msg + SX_WIRE_HEADER_BYTES + SX_WIRE_ERROR_FIXED_BYTES;
	for (size_t i = 0; i < dlen; i++) {
		uint8_t c = (uint8_t)detail[i];
		d[i] = c >= 0x20 && c < 0x7F ? c : '?';
	}
	return write_all(fd, msg, SX_WIRE_HEADER_BYTES + SX_WIRE_ERROR_FIXED_BYTES + dlen);
}

bool sx_answer_meta(int fd, const struct sx_meta *meta)
{
	if (!sx_meta_ok(meta))
		return false;
	uint8_t head[SX_WIRE_HEADER_BYTES + 2];
	fill_header(head, SX_WIRE_TYPE_META, (uint32_t)(2 + meta->len));
	sx_put_le16(head + SX_WIRE_HEADER_BYTES, (uint16_t)meta->count);
	return write_all(fd, head, sizeof head) && write_all(fd, meta->buf, meta->len);
}

/* True when `image` can be sent; its pixel byte count goes to *pixel_bytes. */
static bool image_is_sendable(const struct sx_image *image, size_t *pixel_bytes)
{
	size_t payload;
	return image->pixels && image->width > 0 && image->height > 0 &&
	       (image->channels == SX_WIRE_LAYOUT_RGB || image->channels == SX_WIRE_LAYOUT_RGBA) &&
	       sx_mul3_size(image->width, image->height, image->channels, pixel_bytes) &&
	       sx_add_size(*pixel_bytes, SX_WIRE_IMAGE_FIXED_BYTES, &payload) &&
	       payload <= UINT32_MAX;
}

bool sx_answer_image(int fd, const struct sx_image *image)
{
	size_t pixel_bytes;
	if (!image_is_sendable(image, &pixel_bytes))
		return false;
	uint8_t head[SX_WIRE_HEADER_BYTES + SX_WIRE_IMAGE_FIXED_BYTES] = {0};
	fill_header(head, SX_WIRE_TYPE_IMAGE, (uint32_t)(pixel_bytes + SX_WIRE_IMAGE_FIXED_BYTES));
	sx_put_le32(head + SX_WIRE_HEADER_BYTES, image->width);
	sx_put_le32(head + SX_WIRE_HEADER_BYTES + 4, image->height);
	head[SX_WIRE_HEADER_BYTES + 8] = (uint8_t)image->channels;
	return write_all(fd, head, sizeof head) && write_all(fd, image->pixels, pixel_bytes);
}

/* True when the frames of `r` can be sent; one frame's pixel bytes go to *frame_bytes and
 * the payload length to *payload. */
static bool frames_are_sendable(const struct sx_result *r, size_t *frame_bytes, size_t *payload)
{
	size_t each, all;
	return r->kind == SX_RESULT_FRAMES && r->frame_count >= 1 &&
	       r->frame_count <= SX_FRAMES_MAX && image_is_sendable(&r->image, frame_bytes) &&
	       sx_add_size(*frame_bytes, SX_WIRE_FRAME_HEAD_BYTES, &each) &&
	       sx_mul_size(each, r->frame_count, &all) &&
	       sx_add_size(all, SX_WIRE_FRAMES_FIXED_BYTES, payload) && *payload <= UINT32_MAX;
}

bool sx_answer_frames(int fd, const struct sx_result *r)
{
	size_t frame_bytes, payload;
	if (!frames_are_sendable(r, &frame_bytes, &payload))
		return false;
	uint8_t head[SX_WIRE_HEADER_BYTES + SX_WIRE_FRAMES_FIXED_BYTES] = {0};
	fill_header(head, SX_WIRE_TYPE_FRAMES, (uint32_t)payload);
	uint8_t *p = head + SX_WIRE_HEADER_BYTES;
	sx_put_le32(p, r->image.width);
	sx_put_le32(p + 4, r->image.height);
	p[8] = (uint8_t)r->image.channels;
	sx_put_le32(p + 12, r->frame_count);
	sx_put_le32(p + 16, r->loop_count);
	if (!write_all(fd, head, sizeof head))
		return false;
	for (uint32_t i = 0; i < r->frame_count; i++) {
		uint8_t d[SX_WIRE_FRAME_HEAD_BYTES];
		sx_put_le32(d, r->durations[i]);
		if (!write_all(fd, d, sizeof d) ||
		    !write_all(fd, r->image.pixels + (size_t)i * frame_bytes, frame_bytes))
			return false;
	}
	return true;
}

int sx_answer_result(int fd, enum sx_status status, const struct sx_result *result)
{
	size_t pixel_bytes;
	if (status == SX_OK) {
		if (result->kind == SX_RESULT_META && sx_meta_ok(&result->meta))
			return sx_answer_meta(fd, &result->meta) ? SX_EXIT_RESULT
								 : SX_EXIT_NO_ANSWER;
		if (result->kind == SX_RESULT_IMAGE &&
		    image_is_sendable(&result->image, &pixel_bytes))
			return sx_answer_image(fd, &result->image) ? SX_EXIT_RESULT
								   : SX_EXIT_NO_ANSWER;
		size_t frame_bytes, payload;
		if (frames_are_sendable(result, &frame_bytes, &payload))
			return sx_answer_frames(fd, result) ? SX_EXIT_RESULT : SX_EXIT_NO_ANSWER;
		return sx_answer_error(fd, SX_ERR_INTERNAL, "decoder returned no valid result")
			   ? SX_EXIT_ERROR
			   : SX_EXIT_NO_ANSWER;
	}
	return sx_answer_error(fd, status, result->detail) ? SX_EXIT_ERROR : SX_EXIT_NO_ANSWER;
}
