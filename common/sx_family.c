/* sx_family.c: the warm-up every family shares: prepare once, then every sample through
 * the decode core in every mode and layout. */
#include "sx_family.h"

#include "sx_request.h"

/* One family per process: the first warm-up's outcome, for every later call. */
static struct {
	const struct sx_family *family;
	bool ok;
	void *ctx;
} warm;

static void run_sample(const struct sx_family *family, void *ctx, const struct sx_sample *s,
		       enum sx_mode mode, unsigned channels)
{
	/* Static: a result holds a 64 KiB metadata buffer. */
	static struct sx_result result;
	struct sx_request req;
	sx_request_defaults(&req);
	req.mode = mode;
	req.box_w = family->warm_box_w;
	req.box_h = family->warm_box_h;
	req.channels = channels;
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
	for (size_t i = 0; family->samples && i < family->samples->count; i++) {
		const struct sx_sample *s = &family->samples->items[i];
		if (family->modes & SX_FAMILY_MODE_BIT(SX_MODE_PROBE))
			run_sample(family, warm.ctx, s, SX_MODE_PROBE, 4);
		/* Image answers in both layouts: the RGB path drops alpha in code of its own. */
		for (enum sx_mode mode = SX_MODE_THUMBNAIL; mode <= SX_MODE_FULL; mode++)
			if (family->modes & SX_FAMILY_MODE_BIT(mode))
				for (unsigned channels = 3; channels <= 4; channels++)
					run_sample(family, warm.ctx, s, mode, channels);
	}
	return true;
}

void *sx_family_warm_up_or_fail(const struct sx_family *family, enum sx_status *status,
				struct sx_result *result)
{
	void *ctx;
	if (!sx_family_warm_up(family, &ctx) && *status == SX_OK)
		*status = sx_fail(result, SX_ERR_INTERNAL, "%s",
				  family->prepare_failure ? family->prepare_failure
							  : "cannot set up the decoder");
	return ctx;
}
