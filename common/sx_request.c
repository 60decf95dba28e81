/* sx_request.c: argv parsing and the shared --help text. */
#include "sx_request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sx_size.h"
#include "sx_utf8.h"
#include "sx_wire.h"
#include "sx_zygote.h"

/* Parses a decimal number with an optional k/M/G (binary) suffix. */
static bool parse_amount(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end != '\0' || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/* Preview text: at most SX_FONT_TEXT_MAX_BYTES of well-formed UTF-8 with at least one
 * character and no control character (C0, DEL, C1). */
static bool parse_text(const char *s, char *out)
{
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > SX_FONT_TEXT_MAX_BYTES)
		return false;
	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;
		n = sx_utf8_decode((const uint8_t *)s + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
			return false;
	}
	memcpy(out, s, len + 1);
	return true;
}

/* "WxH" or "N" (a square box). */
static bool parse_box(const char *s, uint32_t *w, uint32_t *h)
{
	uint64_t a, b;
	char buf[32];
	if (!s || strlen(s) >= sizeof buf)
		return false;
	strcpy(buf, s);
	char *x = strchr(buf, 'x');
	if (x) {
		*x = '\0';
		if (!parse_amount(buf, SX_BOX_MAX_SIDE, &a) ||
		    !parse_amount(x + 1, SX_BOX_MAX_SIDE, &b))
			return false;
	} else {
		if (!parse_amount(buf, SX_BOX_MAX_SIDE, &a))
			return false;
		b = a;
	}
	if (a == 0 || b == 0)
		return false;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return true;
}

void sx_request_defaults(struct sx_request *req)
{
	memset(req, 0, sizeof *req);
	req->mode = SX_MODE_PROBE;
	req->channels = 4;
	req->max_pixels = SX_PIXELS_DEFAULT;
	req->max_input = SX_INPUT_DEFAULT_BYTES;
	req->memory = SX_POOL_DEFAULT_BYTES;
	req->cpu_seconds = SX_CPU_SECONDS_DEFAULT;
}

enum sx_status sx_request_parse(int argc, char **argv, struct sx_request *req, bool *wants_help,
				bool *wants_version, char *detail)
{
	sx_request_defaults(req);
	*wants_help = false;
	*wants_version = false;
	detail[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		bool used_val = true, ok = true;
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			*wants_help = true;
			return SX_OK;
		} else if (strcmp(opt, "--probe") == 0) {
			req->mode = SX_MODE_PROBE;
			used_val = false;
		} else if (strcmp(opt, "--full") == 0) {
			req->mode = SX_MODE_FULL;
			used_val = false;
		} else if (strcmp(opt, "--thumbnail") == 0) {
			req->mode = SX_MODE_THUMBNAIL;
			ok = parse_box(val, &req->box_w, &req->box_h);
		} else if (strcmp(opt, "--rgb") == 0) {
			req->channels = 3;
			used_val = false;
		} else if (strcmp(opt, "--rgba") == 0) {
			req->channels = 4;
			used_val = false;
		} else if (strcmp(opt, "--auto-alpha") == 0) {
			req->channels = 0;
			used_val = false;
		} else if (strcmp(opt, "--max-pixels") == 0) {
			ok = parse_amount(val, SX_PIXELS_MAX, &req->max_pixels) &&
			     req->max_pixels > 0;
		} else if (strcmp(opt, "--max-input-bytes") == 0) {
			ok = parse_amount(val, SX_INPUT_MAX_BYTES, &req->max_input) &&
			     req->max_input > 0;
		} else if (strcmp(opt, "--memory") == 0) {
			ok = parse_amount(val, SX_POOL_RESERVE_BYTES, &req->memory) &&
			     req->memory >= SX_POOL_MIN_BYTES;
		} else if (strcmp(opt, "--cpu-seconds") == 0) {
			ok = parse_amount(val, SX_CPU_SECONDS_MAX, &n) && n > 0;
			req->cpu_seconds = (unsigned)n;
		} else if (strcmp(opt, "--sandbox-report") == 0) {
			req->sandbox_report = true;
			used_val = false;
		} else if (strcmp(opt, "--color") == 0) {
			ok = val && (strcmp(val, "srgb") == 0 || strcmp(val, "raw") == 0);
			req->color = ok && strcmp(val, "raw") == 0 ? SX_COLOR_RAW : SX_COLOR_SRGB;
		} else if (strcmp(opt, "--frames") == 0) {
			ok = parse_amount(val, SX_FRAMES_MAX, &n) && n > 0;
			req->frames = (uint32_t)n;
		} else if (strcmp(opt, "--posture-check") == 0) {
			req->posture_check = true;
			used_val = false;
		} else if (strcmp(opt, "--version") == 0) {
			*wants_version = true;
			return SX_OK;
		} else if (strcmp(opt, "--face") == 0) {
			ok = parse_amount(val, 0xFFFF, &n);
			req->face_index = (uint32_t)n;
		} else if (strcmp(opt, "--text") == 0) {
			ok = parse_text(val, req->text);
		} else if (strcmp(opt, "--font-size") == 0) {
			ok = parse_amount(val, SX_FONT_MAX_PIXEL_SIZE, &n) &&
			     n >= SX_FONT_MIN_PIXEL_SIZE;
			req->font_size = (unsigned)n;
		} else {
			snprintf(detail, SX_DETAIL_MAX, "unknown option '%.64s' (see --help)", opt);
			return SX_ERR_BAD_REQUEST;
		}
		if (!ok) {
			snprintf(detail, SX_DETAIL_MAX,
				 "bad or missing value for %.64s (see --help)", opt);
			return SX_ERR_BAD_REQUEST;
		}
		if (used_val)
			i++;
	}
	if (req->frames && req->mode == SX_MODE_PROBE) {
		snprintf(detail, SX_DETAIL_MAX,
			 "--frames needs --thumbnail or --full (see --help)");
		return SX_ERR_BAD_REQUEST;
	}
	return SX_OK;
}

uint64_t sx_request_max_answer_bytes(const struct sx_request *req)
{
	size_t pixels;
	if (!sx_mul_size((size_t)req->max_pixels, 4, &pixels))
		pixels = SIZE_MAX / 2;
	/* Frames: their pixels together stay within max_pixels; each adds its duration. */
	return (uint64_t)pixels + SX_META_MAX_BYTES + 64 +
	       (uint64_t)SX_FRAMES_MAX * SX_WIRE_FRAME_HEAD_BYTES;
}

void sx_request_print_version(const char *prog)
{
	printf("%s %s (wire %u, fork server %u)\n", prog, SX_RELEASE_VERSION, SX_WIRE_VERSION,
	       SX_ZYGOTE_VERSION);
}

void sx_request_print_usage(const char *prog, const char *summary)
{
	printf("usage: %s [MODE] [OPTIONS] < INPUT > ANSWER\n\n%s\n", prog, summary);
	printf(
	    "Modes (one; default --probe):\n"
	    "  --probe              metadata only; no pixels are returned\n"
	    "  --thumbnail WxH|N    fit into a WxH (or NxN) box, aspect kept, never enlarged\n"
	    "  --full               full-size image, refused above --max-pixels\n"
	    "Options:\n"
	    "  --rgba | --rgb       pixel layout of image answers (default --rgba)\n"
	    "  --auto-alpha         RGB when every pixel of the answer is opaque, else RGBA\n"
	    "  --max-pixels N       largest source width*height to decode (default %" PRIu64 ")\n"
	    "  --max-input-bytes N  largest input accepted (default %" PRIu64 ")\n"
	    "  --memory N           memory pool cap in bytes (default %" PRIu64 ", minimum %" PRIu64
	    ")\n"
	    "  --cpu-seconds N      CPU time limit; the kernel kills past it (default %u)\n"
	    "  --color srgb|raw     images: convert to sRGB by the embedded ICC profile or\n"
	    "                       colour chunks (default srgb), or keep stored values\n"
	    "  --frames N           with --thumbnail or --full (sx-image): up to N (1..%u) frames\n"
	    "                       of an animation, composited, each scaled like the first;\n"
	    "                       fewer when their pixels together pass --max-pixels\n"
	    "  --face N             face index in a font collection (fonts only, default 0)\n"
	    "  --text UTF8          font preview text instead of the sample (at most %u bytes,\n"
	    "                       no control characters)\n"
	    "  --font-size PX       font preview em size in pixels (%u to %u; default: fitted)\n"
	    "  --sandbox-report     cross the line, then answer only which sandbox is in force:\n"
	    "                       metadata format=sandbox, sandbox=strict|filter\n"
	    "  --posture-check      cross the line, then make a forbidden system call: the\n"
	    "                       process must die by SIGKILL (SIGSYS under a filter); if\n"
	    "                       it survives it answers format=posture, survived=true\n"
	    "  --version            print the release and wire versions\n"
	    "  --help               this text\n"
	    "Numbers take an optional k, M or G (binary) suffix.\n\n"
	    "Input is fd 0: a regular file is mapped, a pipe is read to EOF. The answer is one\n"
	    "binary message on fd 1 (see PROTOCOL.md); exit 0 after a result, 1 after an error\n"
	    "message. After setup the process runs in seccomp strict mode (under a seccomp\n"
	    "filter already in force, an equally strict filter): it can only read, write and\n"
	    "exit. It prints nothing on stderr.\n",
	    SX_PIXELS_DEFAULT, SX_INPUT_DEFAULT_BYTES, SX_POOL_DEFAULT_BYTES, SX_POOL_MIN_BYTES,
	    SX_CPU_SECONDS_DEFAULT, SX_FRAMES_MAX, SX_FONT_TEXT_MAX_BYTES, SX_FONT_MIN_PIXEL_SIZE,
	    SX_FONT_MAX_PIXEL_SIZE);
}
