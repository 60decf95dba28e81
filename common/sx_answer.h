/* sx_answer.h: writes the one answer message on an fd (PROTOCOL.md).
 *
 * Phase: any; built for after the strict line: only write(2), no allocation, no stdio.
 * Error details go out as printable ASCII (other bytes become '?'), at most SX_DETAIL_MAX.
 * Writes loop over partial writes and EINTR. Each function returns true when the whole
 * message was written; false means the peer is gone and there is nothing left to tell.
 */
#ifndef SX_ANSWER_H
#define SX_ANSWER_H

#include <stdbool.h>

#include "sx_extract.h"

bool sx_answer_error(int fd, enum sx_status status, const char *detail);
bool sx_answer_meta(int fd, const struct sx_meta *meta);
bool sx_answer_image(int fd, const struct sx_image *image);
/* The frames payload (type 4) of an SX_RESULT_FRAMES result. */
bool sx_answer_frames(int fd, const struct sx_result *result);

/* Answers for a finished decode core: the result on SX_OK, an error message otherwise
 * (a broken metadata record becomes SX_ERR_INTERNAL). Returns the exit status that agrees
 * with what was written (SX_EXIT_RESULT, SX_EXIT_ERROR, or SX_EXIT_NO_ANSWER when the
 * write failed). */
int sx_answer_result(int fd, enum sx_status status, const struct sx_result *result);

#endif
