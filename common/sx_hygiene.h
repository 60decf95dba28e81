/* sx_hygiene.h: process hygiene applied in setup, before the warm-up and the strict line.
 *
 * Phase: before the strict line only (close_range, setrlimit, prctl).
 * sx_close_fds_except() closes every descriptor but `keep` (the output fd). It returns
 * false only if the descriptors could not be closed, in which case the extractor must
 * not go on. sx_close_fds_from() closes every descriptor from `first` up, alike (the
 * fork server's child keeps 0, 1 and 2). sx_harden() applies RLIMIT_CPU (soft == hard,
 * so the kernel sends SIGKILL rather than a catchable SIGXCPU), RLIMIT_CORE 0,
 * RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK (SX_STACK_LIMIT_BYTES, soft == hard, never
 * above the inherited hard limit), PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0; false if
 * any of them failed.
 * RLIMIT_FSIZE is 0 unless the output fd is a regular file (a user redirecting the answer
 * to a file), where it is `max_answer_bytes` so the answer still fits.
 */
#ifndef SX_HYGIENE_H
#define SX_HYGIENE_H

#include <stdbool.h>
#include <stdint.h>

bool sx_close_fds_except(int keep);
bool sx_close_fds_from(unsigned first);
bool sx_harden(unsigned cpu_seconds, int out_fd, uint64_t max_answer_bytes);

#endif
