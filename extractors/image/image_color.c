/* image_color.c: embedded ICC profiles and container colour descriptions to sRGB through
 * LittleCMS (see image_color.h). A leaf: it calls lcms2 and common/ only.
 *
 * Rendering intent: relative colorimetric, no black point compensation: libvips' default
 * (vipsthumbnail --eprofile srgb) and what Pillow's ImageCms gives when asked for it. For
 * matrix-shaper profiles (Display P3, Adobe RGB, phone and camera profiles) every intent
 * is this one; for LUT-based (CMYK print) profiles it reads their A2B1 table. (Perceptual
 * was tried: Pillow and libvips then disagree by 4.7/255 on the CMYK fixture, libvips
 * going through its own sRGB profile's perceptual table; relative: 0.01/255.)
 */
#include "image_color.h"

#include <lcms2.h>
#include <lcms2_plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sx_bytes.h"
#include "sx_size.h"

/* --- lcms2's memory: through malloc (the pool), counted and capped --- */

struct lcms_block {
	size_t size;
	size_t pad; /* keeps the payload 16-byte aligned */
};

static size_t lcms_in_use;

static void *lcms_malloc(cmsContext id, cmsUInt32Number size)
{
	(void)id;
	if (size > SX_COLOR_LCMS_MEMORY_MAX - lcms_in_use)
		return NULL;
	struct lcms_block *b = malloc(sizeof *b + size);
	if (!b)
		return NULL;
	b->size = size;
	lcms_in_use += size;
	return b + 1;
}

static void lcms_free(cmsContext id, void *p)
{
	(void)id;
	if (!p)
		return;
	struct lcms_block *b = (struct lcms_block *)p - 1;
	lcms_in_use -= b->size;
	free(b);
}

static void *lcms_realloc(cmsContext id, void *p, cmsUInt32Number size)
{
	if (!p)
		return lcms_malloc(id, size);
	struct lcms_block *b = (struct lcms_block *)p - 1;
	size_t old = b->size;
	if (size > old && size - old > SX_COLOR_LCMS_MEMORY_MAX - lcms_in_use)
		return NULL;
	struct lcms_block *n = realloc(b, sizeof *n + size);
	if (!n)
		return NULL;
	n->size = size;
	lcms_in_use = lcms_in_use - old + size;
	return n + 1;
}

static cmsPluginMemHandler memory_plugin = {
    .base = {cmsPluginMagicNumber, 2000, cmsPluginMemHandlerSig, NULL},
    .MallocPtr = lcms_malloc,
    .FreePtr = lcms_free,
    .ReallocPtr = lcms_realloc,
};

/* lcms2's last error, kept as the "why" of an ignored profile; never printed. */
static char lcms_error[80];

static void on_lcms_error(cmsContext id, cmsUInt32Number code, const char *text)
{
	(void)id;
	(void)code;
	snprintf(lcms_error, sizeof lcms_error, "%s", text ? text : "error");
}

/* --- what prepare leaves behind --- */

static struct {
	bool ready;
	cmsHPROFILE srgb;
	cmsHPROFILE rgb_template;  /* rewritten for gAMA/cHRM after the line */
	cmsHPROFILE gray_template; /* rewritten for a grey image's gAMA */
} warm;

static const cmsCIExyY d65 = {0.3127, 0.3290, 1.0};
static const cmsCIExyYTRIPLE srgb_primaries = {
    {0.6400, 0.3300, 1.0}, {0.3000, 0.6000, 1.0}, {0.1500, 0.0600, 1.0}};

#define GRAY_IN_RGBA8 (COLORSPACE_SH(PT_GRAY) | CHANNELS_SH(1) | BYTES_SH(1) | EXTRA_SH(3))
#define GRAY_IN_RGBA16 (COLORSPACE_SH(PT_GRAY) | CHANNELS_SH(1) | BYTES_SH(2) | EXTRA_SH(3))

static cmsUInt32Number input_format(enum color_layout layout, cmsColorSpaceSignature space)
{
	bool gray = space == cmsSigGrayData;
	switch (layout) {
	case COLOR_LAYOUT_RGBA8: return gray ? GRAY_IN_RGBA8 : TYPE_RGBA_8;
	case COLOR_LAYOUT_RGBA16: return gray ? GRAY_IN_RGBA16 : TYPE_RGBA_16;
	case COLOR_LAYOUT_CMYK8: return TYPE_CMYK_8;
	case COLOR_LAYOUT_CMYK8_INVERTED: return TYPE_CMYK_8_REV;
	}
	return 0;
}

static cmsHTRANSFORM make_transform(cmsHPROFILE from, enum color_layout layout,
				    cmsUInt32Number flags)
{
	return cmsCreateTransform(from, input_format(layout, cmsGetColorSpace(from)), warm.srgb,
				  TYPE_RGBA_8, INTENT_RELATIVE_COLORIMETRIC,
				  cmsFLAGS_NOCACHE | flags);
}

/* One pixel through a fresh transform of this kind, then gone: profile reading, the
 * pipeline, the input formatters of this layout have run once. The one-shot extractor
 * pays this on every file, tagged or not, so it is kept cheap (1.5 ms here, measured in
 * a loop of color_prepare()):
 * - without lcms2's optimisers (cmsFLAGS_NOOPTIMIZE): they are pure computation through
 *   the allocator, and with them the warm-up cost 140 ms of CPU (a 16-bit transform's
 *   precalculation is 14 ms, a CMYK one's 50 ms);
 * - to `to`: the sRGB output side (its reversed curves, 0.9 ms a transform) once, an
 *   XYZ output (0.05 ms) for the other kinds.
 * tests/extractors/test_color.py runs every optimised kind to sRGB after the line under
 * strace: only read, write, exit. */
static bool warm_transform(cmsHPROFILE from, enum color_layout layout, cmsHPROFILE to,
			   cmsUInt32Number to_format)
{
	uint16_t px[4] = {0x1234, 0x5678, 0x9abc, 0xffff};
	uint16_t out[4];
	cmsHTRANSFORM t = cmsCreateTransform(from, input_format(layout, cmsGetColorSpace(from)), to,
					     to_format, INTENT_RELATIVE_COLORIMETRIC,
					     cmsFLAGS_NOCACHE | cmsFLAGS_NOOPTIMIZE);
	if (!t)
		return false;
	cmsDoTransform(t, px, out, 1);
	cmsDeleteTransform(t);
	return true;
}

/* A tiny LUT-based CMYK output profile (a 2-point CLUT to Lab): the CMYK paths of real
 * print profiles (lut16/mAB tables, Lab PCS, 4-channel precalculation) warmed without
 * shipping one. */
static cmsHPROFILE tiny_cmyk_profile(void)
{
	cmsHPROFILE p = cmsCreateProfilePlaceholder(NULL);
	cmsPipeline *lut = cmsPipelineAlloc(NULL, 4, 3);
	cmsStage *clut = cmsStageAllocCLut16bit(NULL, 2, 4, 3, NULL);
	if (!p || !lut || !clut || !cmsPipelineInsertStage(lut, cmsAT_BEGIN, clut)) {
		if (p)
			cmsCloseProfile(p);
		if (lut)
			cmsPipelineFree(lut);
		return NULL;
	}
	cmsSetDeviceClass(p, cmsSigOutputClass);
	cmsSetColorSpace(p, cmsSigCmykData);
	cmsSetPCS(p, cmsSigLabData);
	cmsWriteTag(p, cmsSigMediaWhitePointTag, cmsD50_XYZ());
	cmsWriteTag(p, cmsSigAToB0Tag, lut);
	cmsPipelineFree(lut);
	return p;
}

bool color_prepare(void)
{
	if (warm.ready)
		return true;
	/* First, before lcms2 allocates anything: every later block is ours to count. */
	if (!cmsPlugin(&memory_plugin))
		return false;
	cmsSetLogErrorHandler(on_lcms_error);
	cmsToneCurve *g22 = cmsBuildGamma(NULL, 2.2);
	cmsToneCurve *curves[3] = {g22, g22, g22};
	warm.srgb = cmsCreate_sRGBProfile();
	warm.rgb_template = g22 ? cmsCreateRGBProfile(&d65, &srgb_primaries, curves) : NULL;
	warm.gray_template = g22 ? cmsCreateGrayProfile(cmsD50_xyY(), g22) : NULL;
	cmsHPROFILE cmyk = tiny_cmyk_profile();
	cmsHPROFILE xyz = cmsCreateXYZProfile();
	bool ok = g22 && warm.srgb && warm.rgb_template && warm.gray_template && cmyk && xyz;
	if (ok) {
		/* Every kind of transform color_apply() runs; a profile read from memory too. */
		cmsUInt32Number size = 0;
		ok = cmsSaveProfileToMem(warm.rgb_template, NULL, &size) && size > 0;
		void *bytes = ok ? malloc(size) : NULL;
		cmsHPROFILE reread = NULL;
		if (bytes && cmsSaveProfileToMem(warm.rgb_template, bytes, &size))
			reread = cmsOpenProfileFromMem(bytes, size);
		ok = reread && warm_transform(reread, COLOR_LAYOUT_RGBA8, warm.srgb, TYPE_RGBA_8) &&
		     warm_transform(reread, COLOR_LAYOUT_RGBA16, xyz, TYPE_XYZ_16) &&
		     warm_transform(warm.gray_template, COLOR_LAYOUT_RGBA8, xyz, TYPE_XYZ_16) &&
		     warm_transform(warm.gray_template, COLOR_LAYOUT_RGBA16, xyz, TYPE_XYZ_16) &&
		     warm_transform(cmyk, COLOR_LAYOUT_CMYK8, xyz, TYPE_XYZ_16) &&
		     warm_transform(cmyk, COLOR_LAYOUT_CMYK8_INVERTED, xyz, TYPE_XYZ_16);
		if (reread) {
			char text[8];
			cmsGetProfileInfoASCII(reread, cmsInfoDescription, "en", "US", text,
					       sizeof text);
			cmsCloseProfile(reread);
		}
		free(bytes);
	}
	if (cmyk)
		cmsCloseProfile(cmyk);
	if (xyz)
		cmsCloseProfile(xyz);
	cmsFreeToneCurve(g22);
	warm.ready = ok;
	return ok;
}

/* --- the profile's bytes, checked before lcms2 parses them --- */

static uint64_t clut_entries(const uint8_t *grid, unsigned inputs, unsigned outputs)
{
	uint64_t n = outputs;
	for (unsigned i = 0; i < inputs && n <= SX_COLOR_MAX_CLUT_ENTRIES; i++)
		n *= grid[i];
	return n;
}

/* Caps lcms2 does not have (or has far above what a decoder needs): sizes, tag count,
 * tags inside the profile, table sizes, no multiProcessElements. NULL when acceptable. */
static const char *check_profile_bytes(const uint8_t *p, size_t n)
{
	if (n > SX_COLOR_MAX_PROFILE_BYTES)
		return "profile larger than the cap";
	if (n < 132)
		return "profile shorter than its header";
	uint32_t declared = sx_get_be32(p);
	if (declared > n)
		return "profile is truncated";
	if (declared < 132)
		return "profile header declares a bad size";
	n = declared;
	if (memcmp(p + 36, "acsp", 4) != 0)
		return "not an ICC profile (no 'acsp' signature)";
	uint32_t count = sx_get_be32(p + 128);
	if (count > SX_COLOR_MAX_TAGS)
		return "profile declares too many tags";
	if (132 + (size_t)count * 12 > n)
		return "profile tag table runs past its end";
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *t = p + 132 + (size_t)i * 12;
		uint32_t off = sx_get_be32(t + 4), size = sx_get_be32(t + 8);
		if (off > n || size > n - off)
			return "a profile tag runs past the profile's end";
		if (size < 12)
			continue;
		const uint8_t *d = p + off;
		uint32_t type = sx_get_be32(d);
		if (type == 0x6D706574) /* 'mpet' */
			return "multiProcessElement tags are not supported";
		if (type == 0x6D667431 || type == 0x6D667432) { /* 'mft1', 'mft2' */
			if (size < 52)
				return "a lut tag is truncated";
			uint8_t grid[16];
			memset(grid, d[10], sizeof grid);
			if (d[8] > 15 || clut_entries(grid, d[8], d[9]) > SX_COLOR_MAX_CLUT_ENTRIES)
				return "a lut tag's colour table is larger than the cap";
			if (type == 0x6D667432 &&
			    (sx_get_be16(d + 48) > SX_COLOR_MAX_LUT16_CURVE_ENTRIES ||
			     sx_get_be16(d + 50) > SX_COLOR_MAX_LUT16_CURVE_ENTRIES))
				return "a lut16 tag's curves are larger than the cap";
		} else if (type == 0x6D414220 || type == 0x6D424120) { /* 'mAB ', 'mBA ' */
			if (size < 32)
				return "a lutAtoB/BtoA tag is truncated";
			uint32_t clut = sx_get_be32(d + 24);
			if (clut == 0)
				continue;
			if (d[8] > 15 || clut > size || size - clut < 20)
				return "a lutAtoB/BtoA tag's colour table is outside the tag";
			if (clut_entries(d + clut, d[8], d[9]) > SX_COLOR_MAX_CLUT_ENTRIES)
				return "a lutAtoB/BtoA colour table is larger than the cap";
		}
	}
	return NULL;
}

/* --- from a source to a transform --- */

static const char *space_name(cmsColorSpaceSignature s)
{
	switch (s) {
	case cmsSigRgbData: return "rgb";
	case cmsSigGrayData: return "gray";
	case cmsSigCmykData: return "cmyk";
	case cmsSigLabData: return "lab";
	case cmsSigXYZData: return "xyz";
	case cmsSigYCbCrData: return "ycbcr";
	default: return "other";
	}
}

static cmsColorSpaceSignature image_signature(enum color_space s)
{
	switch (s) {
	case COLOR_SPACE_GRAY: return cmsSigGrayData;
	case COLOR_SPACE_RGB: return cmsSigRgbData;
	case COLOR_SPACE_CMYK: return cmsSigCmykData;
	}
	return cmsSigRgbData;
}

static void ignore(struct color_plan *plan, const char *why, const char *lcms_detail)
{
	plan->icc = COLOR_ICC_IGNORED;
	if (lcms_detail && lcms_detail[0])
		snprintf(plan->ignored, sizeof plan->ignored, "%s: %s", why, lcms_detail);
	else
		snprintf(plan->ignored, sizeof plan->ignored, "%s", why);
}

static void read_description(struct color_plan *plan, cmsHPROFILE h)
{
	char text[SX_COLOR_DESCRIPTION_MAX + 1];
	text[0] = '\0';
	cmsUInt32Number n =
	    cmsGetProfileInfoASCII(h, cmsInfoDescription, "en", "US", text, sizeof text);
	if (n == 0)
		text[0] = '\0';
	text[sizeof text - 1] = '\0';
	/* Printable ASCII only: the description is the file's text. */
	size_t len = strlen(text);
	for (size_t i = 0; i < len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
	while (len > 0 && text[len - 1] == ' ')
		text[--len] = '\0';
	memcpy(plan->description, text, len + 1);
}

static bool near(double a, double b, double tolerance)
{
	return fabs(a - b) <= tolerance;
}

/* A matrix-shaper RGB profile whose colorants and curves are sRGB's (the many sRGB
 * profiles cameras and phones embed): nothing to convert, so nothing is paid. */
static bool is_srgb_profile(cmsHPROFILE h)
{
	static const cmsTagSignature lut_tags[] = {cmsSigAToB0Tag, cmsSigAToB1Tag, cmsSigAToB2Tag,
						   cmsSigDToB0Tag, cmsSigDToB1Tag, cmsSigDToB2Tag};
	static const cmsTagSignature colorants[] = {cmsSigRedColorantTag, cmsSigGreenColorantTag,
						    cmsSigBlueColorantTag};
	static const cmsTagSignature curves[] = {cmsSigRedTRCTag, cmsSigGreenTRCTag,
						 cmsSigBlueTRCTag};
	if (cmsGetColorSpace(h) != cmsSigRgbData || !cmsIsMatrixShaper(h))
		return false;
	for (size_t i = 0; i < sizeof lut_tags / sizeof lut_tags[0]; i++)
		if (cmsIsTag(h, lut_tags[i]))
			return false;
	for (size_t i = 0; i < 3; i++) {
		const cmsCIEXYZ *a = cmsReadTag(h, colorants[i]);
		const cmsCIEXYZ *b = cmsReadTag(warm.srgb, colorants[i]);
		const cmsToneCurve *c = cmsReadTag(h, curves[i]);
		const cmsToneCurve *s = cmsReadTag(warm.srgb, curves[i]);
		if (!a || !b || !c || !s || !near(a->X, b->X, 0.003) || !near(a->Y, b->Y, 0.003) ||
		    !near(a->Z, b->Z, 0.003))
			return false;
		for (int k = 0; k <= 16; k++)
			if (!near(cmsEvalToneCurveFloat(c, (cmsFloat32Number)k / 16),
				  cmsEvalToneCurveFloat(s, (cmsFloat32Number)k / 16), 0.003))
				return false;
	}
	return true;
}

/* The embedded profile: true when it decides the plan (used or found to be sRGB), false
 * when ignored (the reason is in the plan; the container's other colour chunks decide). */
static bool plan_from_icc(struct color_plan *plan, const struct color_source *src, bool build)
{
	const char *bad = check_profile_bytes(src->icc, src->icc_size);
	if (bad) {
		ignore(plan, bad, NULL);
		return false;
	}
	lcms_error[0] = '\0';
	cmsHPROFILE h = cmsOpenProfileFromMem(src->icc, (cmsUInt32Number)src->icc_size);
	if (!h) {
		ignore(plan, "lcms2 cannot read the profile", lcms_error);
		return false;
	}
	cmsColorSpaceSignature space = cmsGetColorSpace(h);
	cmsProfileClassSignature cls = cmsGetDeviceClass(h);
	plan->space = space_name(space);
	read_description(plan, h);
	bool decided = false;
	if (space != image_signature(src->space)) {
		ignore(plan, "profile colour space does not match the image", NULL);
	} else if (cls == cmsSigLinkClass || cls == cmsSigAbstractClass ||
		   cls == cmsSigNamedColorClass) {
		ignore(plan, "device link, abstract or named-colour profile", NULL);
	} else if (is_srgb_profile(h)) {
		plan->icc = COLOR_ICC_PRESENT;
		plan->source = "icc-srgb";
		decided = true;
	} else {
		lcms_error[0] = '\0';
		plan->transform = make_transform(h, plan->layout, 0);
		if (!plan->transform) {
			ignore(plan, "lcms2 cannot convert from the profile", lcms_error);
		} else {
			plan->icc = COLOR_ICC_PRESENT;
			plan->source = "icc";
			decided = true;
			if (!build) {
				cmsDeleteTransform(plan->transform);
				plan->transform = NULL;
			}
		}
	}
	cmsCloseProfile(h);
	return decided;
}

static void xyY_to_XYZ(double x, double y, cmsCIEXYZ *out)
{
	out->X = x / y;
	out->Y = 1.0;
	out->Z = (1.0 - x - y) / y;
}

/* Writes the gAMA/cHRM description into a template profile made before the line (a new
 * profile would read the clock): colorants from the chromaticities, adapted to D50 by
 * lcms2 (Bradford, as cmsCreateRGBProfile does), and a pure power curve. */
static cmsHPROFILE described_profile(enum color_space space, const double *chrm,
				     cmsToneCurve *curve)
{
	cmsHPROFILE h = NULL;
	if (space == COLOR_SPACE_GRAY) {
		if (cmsWriteTag(warm.gray_template, cmsSigGrayTRCTag, curve))
			h = warm.gray_template;
	} else {
		const double *c = chrm;
		double def[8] = {d65.x, d65.y, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06};
		if (!c)
			c = def;
		bool sane = true;
		for (int i = 0; i < 8; i += 2)
			sane = sane && c[i] > 0 && c[i + 1] > 0.001 && c[i] + c[i + 1] <= 1.0;
		cmsCIEXYZ white, prim[3];
		cmsMAT3 m;
		cmsVEC3 s, w;
		if (sane) {
			xyY_to_XYZ(c[0], c[1], &white);
			for (int i = 0; i < 3; i++)
				xyY_to_XYZ(c[2 + 2 * i], c[3 + 2 * i], &prim[i]);
			for (int r = 0; r < 3; r++) {
				m.v[r].n[0] = r == 0 ? prim[0].X : r == 1 ? prim[0].Y : prim[0].Z;
				m.v[r].n[1] = r == 0 ? prim[1].X : r == 1 ? prim[1].Y : prim[1].Z;
				m.v[r].n[2] = r == 0 ? prim[2].X : r == 1 ? prim[2].Y : prim[2].Z;
			}
			_cmsVEC3init(&w, white.X, white.Y, white.Z);
			sane = _cmsMAT3solve(&s, &m, &w) && s.n[0] > 0 && s.n[1] > 0 && s.n[2] > 0;
		}
		static const cmsTagSignature colorant_tags[] = {
		    cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag};
		static const cmsTagSignature curve_tags[] = {cmsSigRedTRCTag, cmsSigGreenTRCTag,
							     cmsSigBlueTRCTag};
		for (int i = 0; sane && i < 3; i++) {
			cmsCIEXYZ col = {prim[i].X * s.n[i], prim[i].Y * s.n[i],
					 prim[i].Z * s.n[i]};
			cmsCIEXYZ d50;
			sane = cmsAdaptToIlluminant(&d50, &white, cmsD50_XYZ(), &col) &&
			       cmsWriteTag(warm.rgb_template, colorant_tags[i], &d50) &&
			       cmsWriteTag(warm.rgb_template, curve_tags[i], curve);
		}
		if (sane)
			h = warm.rgb_template;
	}
	return h;
}

static cmsHPROFILE gamma_profile(const struct color_source *src)
{
	double exponent = 1.0 / src->gamma;
	if (!(exponent >= 0.2 && exponent <= 5.0))
		return NULL;
	cmsToneCurve *curve = cmsBuildGamma(NULL, exponent);
	if (!curve)
		return NULL;
	cmsHPROFILE h = described_profile(src->space, src->has_chrm ? src->chrm : NULL, curve);
	cmsFreeToneCurve(curve);
	return h;
}

/* CICP (ITU-T H.273: PNG cICP, HEIF/AVIF nclx) for RGB pixels: the primaries and SDR
 * transfer functions of photos. HDR transfers (PQ, HLG) need tone mapping, not a profile:
 * not converted here. */
enum cicp_curve {
	CICP_CURVE_SRGB,  /* transfer 13 */
	CICP_CURVE_BT709, /* transfers 1, 6, 14, 15: one curve */
	CICP_CURVE_G22,	  /* transfer 4 */
	CICP_CURVE_LINEAR /* transfer 8 */
};

/* What a CICP description means here: NULL and its primaries (the code) and curve, or the
 * reason it is not used. Everything a CICP transform is built from is (primaries, curve)
 * plus the layout: matrix 0 and full range are required. */
static const char *cicp_meaning(const struct color_source *src, enum cicp_curve *curve)
{
	if (src->space != COLOR_SPACE_RGB)
		return "CICP on a non-RGB image";
	if (src->cicp[2] != 0)
		return "CICP matrix coefficients other than RGB (0)";
	if (src->cicp[3] != 1)
		return "CICP narrow (video) range";
	if (src->cicp[0] != 1 && src->cicp[0] != 9 && src->cicp[0] != 12)
		return "CICP colour primaries not supported";
	switch (src->cicp[1]) {
	case 13: *curve = CICP_CURVE_SRGB; return NULL;
	case 1:
	case 6:
	case 14:
	case 15: *curve = CICP_CURVE_BT709; return NULL;
	case 4: *curve = CICP_CURVE_G22; return NULL;
	case 8: *curve = CICP_CURVE_LINEAR; return NULL;
	case 16:
	case 18: return "CICP HDR transfer (PQ or HLG) is not converted";
	default: return "CICP transfer characteristics not supported";
	}
}

/* The profile of a usable CICP description (written into the RGB template), or NULL
 * with the reason. */
static const char *cicp_profile(uint8_t primaries, enum cicp_curve kind, cmsHPROFILE *out)
{
	static const double bt709[8] = {0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06};
	static const double bt2020[8] = {0.3127, 0.3290, 0.708, 0.292, 0.170, 0.797, 0.131, 0.046};
	static const double p3_d65[8] = {0.3127, 0.3290, 0.680, 0.320, 0.265, 0.690, 0.150, 0.060};
	static const cmsFloat64Number srgb_curve[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92,
						       0.04045};
	static const cmsFloat64Number bt709_curve[5] = {1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5,
							0.081};
	const double *chrm = primaries == 12 ? p3_d65 : primaries == 9 ? bt2020 : bt709;
	cmsToneCurve *curve = NULL;
	*out = NULL;
	switch (kind) {
	case CICP_CURVE_SRGB: curve = cmsBuildParametricToneCurve(NULL, 4, srgb_curve); break;
	case CICP_CURVE_BT709: curve = cmsBuildParametricToneCurve(NULL, 4, bt709_curve); break;
	case CICP_CURVE_G22: curve = cmsBuildGamma(NULL, 2.2); break;
	case CICP_CURVE_LINEAR: curve = cmsBuildGamma(NULL, 1.0); break;
	}
	if (!curve)
		return "no memory for the CICP curve";
	*out = described_profile(COLOR_SPACE_RGB, chrm, curve);
	cmsFreeToneCurve(curve);
	return *out ? NULL : "CICP primaries do not form a colour space";
}

/* --- transforms of common CICP descriptions, built once (color_cache_build) --- */

/* What phones, cameras and encoders write, most common first (color_cache_build(n) builds
 * the first n): Display P3 with the sRGB curve (iPhone HEIC, Android and browser
 * AVIF/PNG), BT.709 and BT.2020 with the BT.709 curve (video-derived AVIF, 10-bit HEIF),
 * BT.2020 with the sRGB curve. 8-bit pixels for all of them, the 16-bit layout (10/12-bit
 * HEIF, 16-bit PNG) for the two most common. BT.709 with the sRGB curve is sRGB: never
 * converted. Building one costs about 5 ms (8-bit) or 15 ms
 * (16-bit: lcms2 precalculates a table), which is why only a fork server does it; the six
 * hold about 0.5 MiB of the pool. The key is all a CICP transform depends on: intent,
 * flags and the sRGB output are make_transform()'s, the same for every transform. */
static const struct cached_key {
	uint8_t primaries;
	enum cicp_curve curve;
	enum color_layout layout;
} cached_keys[] = {
    {12, CICP_CURVE_SRGB, COLOR_LAYOUT_RGBA8},	{1, CICP_CURVE_BT709, COLOR_LAYOUT_RGBA8},
    {9, CICP_CURVE_BT709, COLOR_LAYOUT_RGBA8},	{9, CICP_CURVE_SRGB, COLOR_LAYOUT_RGBA8},
    {12, CICP_CURVE_SRGB, COLOR_LAYOUT_RGBA16}, {1, CICP_CURVE_BT709, COLOR_LAYOUT_RGBA16},
};

#define CACHED_COUNT (sizeof cached_keys / sizeof cached_keys[0])

/* Entry i is cached_keys[i]'s transform, NULL until built (and in a one-shot process). */
static cmsHTRANSFORM cached[CACHED_COUNT];

static cmsHTRANSFORM cached_transform(uint8_t primaries, enum cicp_curve curve,
				      enum color_layout layout)
{
	for (size_t i = 0; i < CACHED_COUNT; i++)
		if (cached_keys[i].primaries == primaries && cached_keys[i].curve == curve &&
		    cached_keys[i].layout == layout)
			return cached[i];
	return NULL;
}

/* gAMA (with cHRM, or sRGB's primaries without) close enough to sRGB's description: as
 * sRGB, at no cost. Files written with gAMA 1/2.2 mean sRGB. */
static bool described_as_srgb(const struct color_source *src)
{
	if (!near(src->gamma * 2.2, 1.0, 0.01))
		return false;
	if (!src->has_chrm)
		return true;
	static const double srgb[8] = {0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06};
	for (int i = 0; i < 8; i++)
		if (!near(src->chrm[i], srgb[i], 0.01))
			return false;
	return true;
}

void color_plan_open(struct color_plan *plan, const struct color_source *src,
		     enum color_layout layout, bool build)
{
	memset(plan, 0, sizeof *plan);
	plan->layout = layout;
	plan->chunks = src->chunks;
	plan->source = "none";
	if (!warm.ready) {
		if (src->icc || src->icc_problem)
			ignore(plan, "colour management is not set up", NULL);
		return;
	}
	if (src->has_cicp) {
		/* First, as PNG's 3rd edition and HEIF's colr order them; an unusable CICP leaves
		 * the decision to the profile and chunks below. */
		enum cicp_curve curve = CICP_CURVE_SRGB;
		snprintf(plan->cicp, sizeof plan->cicp, "%u/%u/%u/%u", src->cicp[0], src->cicp[1],
			 src->cicp[2], src->cicp[3]);
		plan->cicp_ignored = cicp_meaning(src, &curve);
		if (!plan->cicp_ignored && src->cicp[0] == 1 && curve == CICP_CURVE_SRGB) {
			plan->source = "cicp-srgb";
			return;
		}
		if (!plan->cicp_ignored) {
			/* A fork server's prebuilt transform of this description, else one built
			 * now, the same way (color_cache_build). */
			plan->transform =
			    build ? cached_transform(src->cicp[0], curve, layout) : NULL;
			plan->shared = plan->transform != NULL;
			cmsHPROFILE h = NULL;
			if (!plan->shared)
				plan->cicp_ignored = cicp_profile(src->cicp[0], curve, &h);
			if (h && build)
				plan->transform = make_transform(h, layout, 0);
		}
		if (!plan->cicp_ignored) {
			plan->source = "cicp";
			return;
		}
	}
	if (src->icc_problem)
		ignore(plan, src->icc_problem, NULL);
	else if (src->icc && plan_from_icc(plan, src, build))
		return;
	if (src->srgb) {
		plan->source = "srgb";
		return;
	}
	if (!src->has_gamma || src->space == COLOR_SPACE_CMYK)
		return;
	if (described_as_srgb(src)) {
		plan->source = "gama-srgb";
		return;
	}
	cmsHPROFILE h = gamma_profile(src);
	if (!h)
		return;
	plan->source = src->has_chrm && src->space != COLOR_SPACE_GRAY ? "gama-chrm" : "gama";
	if (build)
		plan->transform = make_transform(h, layout, 0);
}

bool color_plan_converts(const struct color_plan *plan)
{
	return plan->transform != NULL;
}

void color_apply(const struct color_plan *plan, const void *in, uint8_t *out, size_t pixels)
{
	if (!plan->transform)
		return;
	/* lcms2 counts pixels in 32 bits. */
	const size_t step = (size_t)1 << 24;
	size_t in_px = plan->layout == COLOR_LAYOUT_RGBA16 ? 8 : 4;
	for (size_t done = 0; done < pixels; done += step) {
		size_t n = pixels - done < step ? pixels - done : step;
		const uint8_t *src = (const uint8_t *)in + done * in_px;
		uint8_t *dst = out + done * 4;
		cmsDoTransform(plan->transform, src, dst, (cmsUInt32Number)n);
		/* The alpha lcms2 leaves alone (no cmsFLAGS_COPY_ALPHA: it would round 16-bit
		 * alpha where libpng's strip takes the high byte). */
		if (plan->layout == COLOR_LAYOUT_RGBA16) {
			const uint16_t *s16 = (const uint16_t *)(const void *)src;
			for (size_t i = 0; i < n; i++)
				dst[i * 4 + 3] = (uint8_t)(s16[i * 4 + 3] >> 8);
		} else if (plan->layout != COLOR_LAYOUT_RGBA8) {
			for (size_t i = 0; i < n; i++)
				dst[i * 4 + 3] = 0xFF;
		}
	}
}

void color_describe(const struct color_plan *plan, struct sx_meta *m)
{
	static const char *const icc_names[] = {"absent", "present", "ignored"};
	sx_meta_add_cstring(m, "icc", icc_names[plan->icc]);
	if (plan->space)
		sx_meta_add_cstring(m, "icc_space", plan->space);
	if (plan->description[0])
		sx_meta_add_cstring(m, "icc_description", plan->description);
	if (plan->icc == COLOR_ICC_IGNORED)
		sx_meta_add_cstring(m, "icc_ignored", plan->ignored);
	if (plan->chunks)
		sx_meta_add_cstring(m, "png_color_chunks", plan->chunks);
	if (plan->cicp[0])
		sx_meta_add_cstring(m, "cicp", plan->cicp);
	if (plan->cicp_ignored)
		sx_meta_add_cstring(m, "cicp_ignored", plan->cicp_ignored);
	sx_meta_add_cstring(m, "color_source", plan->source);
}

void color_plan_close(struct color_plan *plan)
{
	if (plan->transform && !plan->shared)
		cmsDeleteTransform(plan->transform);
	plan->transform = NULL;
	plan->shared = false;
}

/* One pixel through each, in the layout it reads: whatever lcms2 does on a transform's
 * first use happens here, before the line. */
bool color_cache_build(size_t count)
{
	if (!warm.ready)
		return false;
	bool all = true;
	for (size_t i = 0; i < CACHED_COUNT && i < count; i++) {
		if (cached[i])
			continue;
		cmsHPROFILE h = NULL;
		if (!cicp_profile(cached_keys[i].primaries, cached_keys[i].curve, &h))
			cached[i] = make_transform(h, cached_keys[i].layout, 0);
		if (!cached[i]) {
			all = false;
			continue;
		}
		uint16_t px[4] = {0x1234, 0x5678, 0x9abc, 0xffff};
		uint8_t out[4];
		cmsDoTransform(cached[i], px, out, 1);
	}
	return all;
}

size_t color_cache_count(void)
{
	return CACHED_COUNT;
}

bool color_cache_entry(size_t i, struct color_source *src, enum color_layout *layout)
{
	static const uint8_t transfers[] = {[CICP_CURVE_SRGB] = 13,
					    [CICP_CURVE_BT709] = 1,
					    [CICP_CURVE_G22] = 4,
					    [CICP_CURVE_LINEAR] = 8};
	if (i >= CACHED_COUNT)
		return false;
	memset(src, 0, sizeof *src);
	src->space = COLOR_SPACE_RGB;
	src->has_cicp = true;
	src->cicp[0] = cached_keys[i].primaries;
	src->cicp[1] = transfers[cached_keys[i].curve];
	src->cicp[3] = 1;
	*layout = cached_keys[i].layout;
	return true;
}
