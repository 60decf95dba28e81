/* sx_family.c: the warm-up every family shares: prepare once, then every sample through
 * the decode core in every mode, and every layout once. */
#include "sx_family.h"

#include "sx_request.h"

/* One family per process: the first warm-up's outcome, for every later call. */
static struct {
	const struct sx_family *family;
	bool ok;
	void *ctx;
} warm;

static void run_sample(const struct sx_family *family, void *ctx, const struct sx_sample *s,
		       enum sx_mode mode, unsigned channels, uint32_t frames)
{
	/* Static: a result holds a 64 KiB metadata buffer. */
	static struct sx_result result;
	struct sx_request req;
	sx_request_defaults(&req);
	req.mode = mode;
	req.box_w = family->warm_box_w;
	req.box_h = family->warm_box_h;
	req.channels = channels;
	req.frames = frames;
	sx_result_init(&result);
	family->extract(ctx, &req, s->data, s->size, &result);
	sx_result_release(&result);
}

bool sx_family_warm_up(const struct sx_family *family, void **ctx)
{
	if (warm.family) {
		*ctx = warm.ctx;
		return warm.ok;
	}
	warm.family = family;
	warm.ctx = NULL;
	warm.ok = !family->prepare || family->prepare(&warm.ctx);
	*ctx = warm.ctx;
	if (!warm.ok)
		return false;
	/* Image answers come in three layouts (RGBA, RGB, and RGB-unless-alpha for
	 * --auto-alpha), handed over by our own code (sx_finish_rgba), which reaches no library:
	 * every sample runs in every mode as RGBA, and the first one also in the other two
	 * layouts. Every layout of every sample would cost a one-shot sx-font ~4 ms more. */
	static const unsigned other_layouts[] = {3, 0};
	for (size_t i = 0; family->samples && i < family->samples->count; i++) {
		const struct sx_sample *s = &family->samples->items[i];
		for (enum sx_mode mode = SX_MODE_PROBE; mode <= SX_MODE_FULL; mode++) {
			if (!(family->modes & SX_FAMILY_MODE_BIT(mode)))
				continue;
			run_sample(family, warm.ctx, s, mode, 4, 0);
			/* --frames: the animation paths (every frame composited and scaled). */
			if (family->frames && mode != SX_MODE_PROBE)
				run_sample(family, warm.ctx, s, mode, 4, 2);
			for (size_t l = 0; i == 0 && mode != SX_MODE_PROBE &&
					   l < sizeof other_layouts / sizeof other_layouts[0];
			     l++)
				run_sample(family, warm.ctx, s, mode, other_layouts[l], 0);
		}
	}
	return true;
}

void *sx_family_warm_up_or_fail(const struct sx_family *family, const struct sx_request *req,
				enum sx_status *status, struct sx_result *result)
{
	void *ctx;
	if (*status == SX_OK && req->frames && !family->frames)
		*status = sx_fail(result, SX_ERR_BAD_REQUEST, "%s answers no --frames request",
				  family->name);
	if (!sx_family_warm_up(family, &ctx) && *status == SX_OK)
		*status = sx_fail(result, SX_ERR_INTERNAL, "%s",
				  family->prepare_failure ? family->prepare_failure
							  : "cannot set up the decoder");
	return ctx;
}
