/* video_hdr.c: HDR (PQ and HLG, BT.2020) to SDR for sx-video's pictures, as an SDR
 * display shows them: the transfer function inverted to display light (PQ: absolute nits;
 * HLG: BT.2100's inverse OETF then its OOTF for a 1000-nit display, system gamma 1.2),
 * BT.2020 primaries mapped to BT.709/sRGB (linear 3x3 matrix, negatives clipped), then
 * highlights above SDR reference white (100 nits, the reference libavfilter's zscale and
 * tonemap filters use) compressed with BT.2390's EETF (its Hermite spline in the PQ
 * domain) applied to max(R, G, B), so hue is kept. The source peak the EETF starts from is
 * the picture's own brightest pixels (the 99.9th percentile of luminance, so a few
 * ringing pixels and saturated overshoots do not count; SDR white when that is within
 * SX_VIDEO_HDR_WHITE_SLACK_PERCENT of it): a picture with nothing above
 * SDR white passes unchanged (BT.2390's knee then sits at the peak), one with 1000-nit
 * highlights rolls them off from the knee BT.2390 gives. The result is encoded for a
 * BT.1886 display (gamma 2.4), the inverse of what zscale assumes of BT.709 input.
 *
 * Our own small operator rather than libavfilter's graph (zscale, tonemap): no filter graph,
 * no extra library in the sandbox, no per-call allocation beyond the picture, and tables
 * built once in the warm-up. tests/extractors/test_video_modern.py pins it: clips made from
 * an SDR picture by zscale at 100 nits (PQ and HLG) come back as that picture. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "sx_size.h"
#include "video_internal.h"

#define CODE_BITS 12 /* input tables: the 16-bit converter output, top 12 bits */
#define CODES (1u << CODE_BITS)
#define OUT_STEPS 4096u /* output table: indexed by sqrt(linear) */
#define CURVE_STEPS 1024u
#define PEAK_BINS 4096u

/* Built once by video_hdr_prepare() (before the strict line), read-only afterwards. */
static float pq_linear[CODES];	    /* PQ code -> display light, 1.0 = 100 nits */
static float hlg_linear[CODES];	    /* HLG code -> display light, 1.0 = 100 nits */
static uint8_t sdr_code[OUT_STEPS]; /* sqrt(linear) -> 8-bit BT.1886 (gamma 2.4) */
static bool tables_ready;

/* SMPTE ST 2084. */
static const double PQ_M1 = 2610.0 / 16384, PQ_M2 = 2523.0 / 4096 * 128, PQ_C1 = 3424.0 / 4096,
		    PQ_C2 = 2413.0 / 4096 * 32, PQ_C3 = 2392.0 / 4096 * 32;

static double pq_to_nits(double e)
{
	double p = pow(e, 1 / PQ_M2);
	double num = p - PQ_C1 > 0 ? p - PQ_C1 : 0;
	return 10000 * pow(num / (PQ_C2 - PQ_C3 * p), 1 / PQ_M1);
}

static double nits_to_pq(double nits)
{
	double y = pow(nits / 10000 > 0 ? nits / 10000 : 0, PQ_M1);
	return pow((PQ_C1 + PQ_C2 * y) / (1 + PQ_C3 * y), PQ_M2);
}

/* BT.2100 HLG inverse OETF. */
static double hlg_to_scene(double e)
{
	const double a = 0.17883277, b = 0.28466892, c = 0.55991073;
	return e <= 0.5 ? e * e / 3 : (exp((e - c) / a) + b) / 12;
}

void video_hdr_prepare(void)
{
	if (tables_ready)
		return;
	for (unsigned i = 0; i < CODES; i++) {
		double e = (i + 0.5) / CODES;
		pq_linear[i] = (float)(pq_to_nits(e) / 100);
		/* OOTF per component: Fd = Lw * Es^1.2, Lw = 1000 nits = 10 x SDR white. */
		hlg_linear[i] = (float)(10 * pow(hlg_to_scene(e), 1.2));
	}
	for (unsigned i = 0; i < OUT_STEPS; i++) {
		double s = (double)i / (OUT_STEPS - 1), v = s * s;
		sdr_code[i] = (uint8_t)lround(255 * pow(v, 1 / 2.4));
	}
	tables_ready = true;
}

bool video_frame_is_hdr(const AVFrame *frame)
{
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
	return desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB) &&
	       (frame->color_trc == AVCOL_TRC_SMPTE2084 ||
		frame->color_trc == AVCOL_TRC_ARIB_STD_B67);
}

/* One pixel of 16-bit non-linear BT.2020 RGB to linear BT.709 RGB, 1.0 = SDR white. */
static inline void to_linear_709(const uint16_t *px, bool hlg, float out[3])
{
	const float *table = hlg ? hlg_linear : pq_linear;
	float r = table[px[0] >> (16 - CODE_BITS)];
	float g = table[px[1] >> (16 - CODE_BITS)];
	float b = table[px[2] >> (16 - CODE_BITS)];
	/* BT.2020 to BT.709 primaries (ITU-R BT.2087, linear light). */
	float r7 = 1.6605f * r - 0.5876f * g - 0.0728f * b;
	float g7 = -0.1246f * r + 1.1329f * g - 0.0083f * b;
	float b7 = -0.0182f * r - 0.1006f * g + 1.1187f * b;
	out[0] = r7 > 0 ? r7 : 0;
	out[1] = g7 > 0 ? g7 : 0;
	out[2] = b7 > 0 ? b7 : 0;
}

static inline float max3(const float v[3])
{
	float m = v[0] > v[1] ? v[0] : v[1];
	return m > v[2] ? m : v[2];
}

/* BT.2390 EETF from [0, peak] (relative, 1.0 = 100 nits) to [0, 1], black at 0, sampled
 * in CURVE_STEPS steps over [0, peak]. Identity up to its knee. */
static void build_curve(float peak, float curve[CURVE_STEPS + 1])
{
	double pq_peak = nits_to_pq(peak * 100.0);
	double max_lum = nits_to_pq(100.0) / pq_peak;
	double ks = 1.5 * max_lum - 0.5;
	for (unsigned i = 0; i <= CURVE_STEPS; i++) {
		double l = (double)peak * i / CURVE_STEPS;
		double e1 = nits_to_pq(l * 100) / pq_peak, e2 = e1;
		if (e1 > ks && ks < 1) {
			double t = (e1 - ks) / (1 - ks), t2 = t * t, t3 = t2 * t;
			e2 = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) +
			     (-2 * t3 + 3 * t2) * max_lum;
		}
		curve[i] = (float)(pq_to_nits(e2 * pq_peak) / 100);
	}
}

static inline uint8_t encode(float v)
{
	if (!(v > 0))
		return 0;
	if (v >= 1)
		return 255;
	return sdr_code[(unsigned)(sqrtf(v) * (OUT_STEPS - 1) + 0.5f)];
}

enum sx_status hdr_to_sdr(const AVFrame *frame, const uint16_t *rgba64, uint32_t w, uint32_t h,
			  uint8_t **rgba, struct sx_result *result)
{
	size_t pixels, bytes;
	if (!sx_mul_size(w, h, &pixels) || !sx_mul_size(pixels, 4, &bytes))
		return sx_fail(result, SX_ERR_LIMIT, "%ux%u is too large to tone-map", w, h);
	uint8_t *out = malloc(bytes ? bytes : 1);
	if (!out)
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory for a %ux%u picture", w, h);
	video_hdr_prepare(); /* a no-op after the warm-up; pure arithmetic anyway */
	bool hlg = frame->color_trc == AVCOL_TRC_ARIB_STD_B67;
	/* Pass 1: the picture's peak after gamut mapping, as the 99.9th percentile of its
	 * luminance over a histogram in sqrt steps up to PQ's 10000 nits. Luminance, not
	 * max(R, G, B): coding noise on saturated primaries overshoots one component by 30%
	 * and more once BT.2020 is mapped to BT.709; those are clipped (hue kept) instead. */
	unsigned *bins = calloc(PEAK_BINS, sizeof *bins);
	if (!bins) {
		free(out);
		return sx_fail(result, SX_ERR_NO_MEMORY, "no memory to tone-map");
	}
	float v[3];
	for (size_t i = 0; i < pixels; i++) {
		to_linear_709(rgba64 + 4 * i, hlg, v);
		float m = (0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2]) / 100;
		bins[m >= 1 ? PEAK_BINS - 1 : (unsigned)(sqrtf(m) * (PEAK_BINS - 1))]++;
	}
	size_t above = 0, allowed = pixels / 1000;
	unsigned top = PEAK_BINS - 1;
	while (top > 0 && above + bins[top] <= allowed)
		above += bins[top--];
	free(bins);
	float edge = (float)(top + 1) / (PEAK_BINS - 1), peak = edge * edge * 100;
	/* Within SX_VIDEO_HDR_WHITE_SLACK_PERCENT of SDR white is coding noise around white (a few
	 * PQ codes), not a highlight: clipped, so it does not pull BT.2390's knee down. */
	if (peak * 100 < (float)SX_VIDEO_HDR_WHITE_SLACK_PERCENT)
		peak = 1;
	float curve[CURVE_STEPS + 1];
	bool map = peak > 1.0001f;
	if (map)
		build_curve(peak, curve);
	/* Pass 2: tone-map max(R, G, B) and scale the three alike. */
	for (size_t i = 0; i < pixels; i++) {
		to_linear_709(rgba64 + 4 * i, hlg, v);
		if (map) {
			float m = max3(v);
			if (m > 0) {
				float x = m / peak * CURVE_STEPS;
				unsigned k = (unsigned)x;
				if (k >= CURVE_STEPS)
					k = CURVE_STEPS - 1;
				float f = x - (float)k;
				float mapped = x >= CURVE_STEPS
						   ? curve[CURVE_STEPS]
						   : curve[k] + (curve[k + 1] - curve[k]) * f;
				float s = mapped / m;
				v[0] *= s;
				v[1] *= s;
				v[2] *= s;
			}
		}
		out[4 * i] = encode(v[0]);
		out[4 * i + 1] = encode(v[1]);
		out[4 * i + 2] = encode(v[2]);
		out[4 * i + 3] = 255;
	}
	*rgba = out;
	return SX_OK;
}
