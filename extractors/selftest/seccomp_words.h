/* seccomp_words.h: sx-selftest's words about the sandbox itself (issue 11): which sandbox the
 * strict line entered, and the calls a filter could get wrong (the i386 and x32 ABIs, the
 * signal return). Kept apart from the misbehaviours in sx_selftest.c.
 *
 * Phase: selftest_seccomp_prepare() before the strict line (it may install a signal
 * handler); selftest_seccomp_word() after it (it makes only the calls its word names).
 */
#ifndef SELFTEST_SECCOMP_WORDS_H
#define SELFTEST_SECCOMP_WORDS_H

#include <stdbool.h>

#define SELFTEST_SECCOMP_SUMMARY                                                                   \
	"  sandbox                     report the sandbox in force: sandbox=strict|filter\n"       \
	"  int80 int80-exit            i386 chmod (number 15, x86_64's rt_sigreturn) and i386\n"   \
	"                              exit(42) through int 0x80\n"                                \
	"  x32                         write through the x32 ABI (number 0x40000001)\n"            \
	"  sigreturn                   a SIGILL handler returns (rt_sigreturn), then answers\n"

/* Before the line: what `word` needs set up. False if that failed. */
bool selftest_seccomp_prepare(const char *word);

/* After the line: runs `word` if it is one of these, and returns the exit status to leave
 * with (after writing any answer); -1 when `word` is not one of these. A call the sandbox
 * lets through ends in a metadata answer saying it survived. */
int selftest_seccomp_word(const char *word);

#endif
