/* sx_family.h: what an extractor family is, as one constant descriptor, and the one
 * warm-up every family goes through.
 *
 * A family (sx-image, sx-video, sx-font, sx-lua) is a `struct sx_family`: its name and
 * --help summary, a `prepare` that builds the libraries' state its decode core needs (the
 * "warm context": a FreeType engine, av_log silenced...), the decode core `extract`, and
 * built-in samples. The lifecycle main() (every extractor's is the same), the fork server
 * and the fuzz harnesses all take the descriptor, so what is fuzzed is exactly what runs
 * after the strict line.
 *
 * Phases:
 * - sx_family_warm_up() runs before the strict line (or in a fuzz harness's initialiser):
 *   `prepare` once, then every sample through `extract` in every mode the family answers
 *   and, for image answers, every pixel layout once, so each library's lazy initialisation is
 *   done while syscalls are still allowed. Only the first call in a process does work (a
 *   fork-server child inherits a warm zygote and gets it free); later calls return what
 *   the first one got. It returns false when `prepare` failed: the caller answers
 *   SX_ERR_INTERNAL after the line (sx_family_warm_up_or_fail() does that for main()).
 * - `extract` has the decode-core contract of sx_extract.h, plus the warm context.
 *
 * Memory: the descriptor and samples are static constants; the warm context belongs to
 * the family (static storage of its own), valid for the life of the process.
 */
#ifndef SX_FAMILY_H
#define SX_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sx_extract.h"

/* A built-in input the warm-up runs through the family's decode core, and a set of them
 * (generated data files define one each, named after their generator). */
struct sx_sample {
	const uint8_t *data;
	size_t size;
};

struct sx_sample_set {
	const struct sx_sample *items;
	size_t count;
};

/* Bits of sx_family.modes. */
#define SX_FAMILY_MODE_BIT(mode) (1u << (mode))
#define SX_FAMILY_ALL_MODES                                                                        \
	(SX_FAMILY_MODE_BIT(SX_MODE_PROBE) | SX_FAMILY_MODE_BIT(SX_MODE_THUMBNAIL) |               \
	 SX_FAMILY_MODE_BIT(SX_MODE_FULL))

struct sx_family {
	const char *name;    /* the program name in --help ("sx-image") */
	const char *summary; /* --help: what it reads and what its modes answer */
	/* Before the line, once: builds the warm context into *ctx (NULL when the family
	 * needs none). NULL `prepare`: nothing to build. false: the library could not be set
	 * up, and the extractor answers SX_ERR_INTERNAL with `prepare_failure`. */
	bool (*prepare)(void **ctx);
	const char *prepare_failure;
	/* Before the line, in a fork server only, once after a successful warm-up: state that
	 * pays off over many requests but would cost a one-shot call more than it saves
	 * (prebuilt colour transforms). Every child inherits it; a one-shot process never has
	 * it, so the decode core must answer the same without it. NULL: nothing. */
	void (*prepare_server)(void *ctx);
	sx_extract_fn extract;
	const struct sx_sample_set *samples;
	unsigned modes;			 /* SX_FAMILY_MODE_BIT()s of the modes it answers */
	uint32_t warm_box_w, warm_box_h; /* thumbnail box of the warm-up */
	bool frames; /* answers --frames N (wire version 3); else such a request is BAD_REQUEST.
		      * The warm-up then also runs every sample with --frames 2. */
};

/* See the top of this file. *ctx gets the warm context (also on later calls). */
bool sx_family_warm_up(const struct sx_family *family, void **ctx);

/* main()'s step 2: the warm-up; when it failed and *status is still SX_OK, *status
 * becomes SX_ERR_INTERNAL with the family's reason in result->detail (SX_ERR_BAD_REQUEST
 * first for a --frames request to a family without `frames`). Returns the warm context. */
void *sx_family_warm_up_or_fail(const struct sx_family *family, const struct sx_request *req,
				enum sx_status *status, struct sx_result *result);

#endif
