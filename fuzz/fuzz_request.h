/* fuzz_request.h: what every libFuzzer harness shares: the request from the first bytes
 * of an input, the family's own warm-up, and the call of its decode core, exactly the one
 * the extractor makes after its strict line (sx_family.h), with the contract checks.
 *
 * Phase: in-process harnesses only (no sandbox). Header-only so each harness stays one
 * line: SX_FUZZ_HARNESS(sx_<family>_family).
 * Layout of the prefix (FUZZ_PREFIX bytes): mode selector, box width, box height, flags
 * (bit 0: RGB layout, bits 1-2: font face, bit 3: --color raw, bit 4: --frames (1 + box
 * height % 8) for a family that answers frames; seeds leave it 0, so the colour-managed
 * single-image path is the one fuzzed first).
 * Inputs shorter than the prefix are used whole as file data with a probe request.
 */
#ifndef FUZZ_REQUEST_H
#define FUZZ_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sx_extract.h"
#include "sx_family.h"
#include "sx_request.h"

#define FUZZ_PREFIX 4
/* Small enough that ASan's malloc copes with any decode the harness allows. */
#define FUZZ_MAX_PIXELS (4u << 20)
#define FUZZ_MEMORY_MIB 256
#define FUZZ_MEMORY ((uint64_t)FUZZ_MEMORY_MIB << 20)
#define FUZZ_STRINGIFY(x) #x
#define FUZZ_STRING(x) FUZZ_STRINGIFY(x)

static inline void fuzz_request(const struct sx_family *family, const uint8_t **data, size_t *size,
				struct sx_request *req)
{
	sx_request_defaults(req);
	req->max_pixels = FUZZ_MAX_PIXELS;
	req->memory = FUZZ_MEMORY;
	req->box_w = req->box_h = 64;
	if (*size < FUZZ_PREFIX)
		return;
	const uint8_t *p = *data;
	req->mode = (enum sx_mode)(SX_MODE_PROBE + p[0] % 3);
	req->box_w = 1 + p[1] % 255;
	req->box_h = 1 + p[2] % 255;
	req->channels = (p[3] & 1) ? 3 : 4;
	req->face_index = (p[3] >> 1) & 3;
	req->color = (p[3] >> 3) & 1 ? SX_COLOR_RAW : SX_COLOR_SRGB;
	if (family->frames && ((p[3] >> 4) & 1) && req->mode != SX_MODE_PROBE)
		req->frames = 1 + p[2] % 8;
	*data += FUZZ_PREFIX;
	*size -= FUZZ_PREFIX;
}

/* The family's warm context, from its warm-up in LLVMFuzzerInitialize. */
static void *fuzz_ctx;

/* The extractor's own warm-up, as before its strict line (it also silences libraries that
 * would print on every corrupt input), then a fork server's (`prepare_server`: the state its
 * children inherit, e.g. prebuilt colour transforms), so the harness runs what a forked
 * child runs. A family that cannot set up is a broken build. */
static inline void fuzz_warm_up(const struct sx_family *family)
{
	if (!sx_family_warm_up(family, &fuzz_ctx))
		__builtin_trap();
	if (family->prepare_server)
		family->prepare_server(fuzz_ctx);
}

/* Runs the family's decode core and checks the contract every harness shares: an internal
 * error is a bug (trap, never reported as bad input), and an image result is consistent. */
static inline void fuzz_run(const struct sx_family *family, const uint8_t *data, size_t size)
{
	static struct sx_result result;
	struct sx_request req;
	fuzz_request(family, &data, &size, &req);
	sx_result_init(&result);
	enum sx_status status = family->extract(fuzz_ctx, &req, data, size, &result);
	if (status == SX_ERR_INTERNAL)
		__builtin_trap();
	if (status == SX_OK && (result.kind == SX_RESULT_FRAMES) != (req.frames > 0))
		__builtin_trap();
	if (status == SX_OK && result.kind == SX_RESULT_FRAMES &&
	    (result.frame_count == 0 || result.frame_count > req.frames ||
	     (uint64_t)result.frame_count * result.image.width * result.image.height >
		 req.max_pixels))
		__builtin_trap();
	if (status == SX_OK &&
	    (result.kind == SX_RESULT_IMAGE || result.kind == SX_RESULT_FRAMES)) {
		const struct sx_image *im = &result.image;
		if (!im->pixels || im->width == 0 || im->height == 0 ||
		    (im->channels != 3 && im->channels != 4) || im->channels != req.channels)
			__builtin_trap();
		if (req.mode == SX_MODE_THUMBNAIL &&
		    (im->width > req.box_w || im->height > req.box_h))
			__builtin_trap();
		/* Touch the last pixel byte: ASan catches a buffer shorter than claimed. */
		size_t count = result.kind == SX_RESULT_FRAMES ? result.frame_count : 1;
		volatile uint8_t last =
		    im->pixels[(size_t)im->width * im->height * im->channels * count - 1];
		(void)last;
	}
	if (status == SX_OK && result.kind == SX_RESULT_META && !sx_meta_ok(&result.meta))
		__builtin_trap();
	if (status == SX_OK && result.kind == SX_RESULT_NONE)
		__builtin_trap();
	sx_result_release(&result);
}

/* The whole harness: libFuzzer's two entry points over one family, and ASan's defaults.
 * In fuzz and sanitizer builds ASan owns malloc, so the pool and its cap are not there: a
 * 6.7 KB MP4 whose sample table asks for 2 GB got the harness 2.8 GB of RSS and an
 * out-of-memory report, where the extractor answers NO_MEMORY at once. ASan is told to
 * refuse, with NULL as the pool does, any one allocation over the request's memory. */
#define SX_FUZZ_HARNESS(family)                                                                    \
	const char *__asan_default_options(void);                                                  \
	const char *__asan_default_options(void)                                                   \
	{                                                                                          \
		return "allocator_may_return_null=1:max_allocation_size_mb=" FUZZ_STRING(          \
		    FUZZ_MEMORY_MIB);                                                              \
	}                                                                                          \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                                         \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                              \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                          \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		fuzz_warm_up(&(family));                                                           \
		return 0;                                                                          \
	}                                                                                          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
	{                                                                                          \
		fuzz_run(&(family), data, size);                                                   \
		return 0;                                                                          \
	}

#endif
