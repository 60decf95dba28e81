/* sx_zygote.h: the fork server ("zygote") every extractor can become, and its wire.
 *
 * Phase: the very first call in main(), before setup. Without `--server FD` as the whole
 * argv, sx_zygote_serve_if_asked() returns at once and changes nothing: one-shot mode.
 * With it, the process becomes a zygote: it runs the family's warm-up (sx_family.h) once,
 * closes every fd but the socket FD (a Unix SOCK_SEQPACKET socket the client passed), says READY,
 * and then serves requests (PROTOCOL.md, "Fork-server requests") until the client closes its end.
 * Per request it forks; the function returns only in that child, with `*argc`/`*argv` replaced by
 * the request's arguments (argv[0] kept), fds 0, 1 and 2 the request's input, answer and
 * stderr, and no other fd open, so main() goes on exactly as in one-shot mode: setup,
 * warm-up (cheap the second time), the strict line, extract, answer, exit. The child gets a
 * fresh stack canary here (x86_64), so main() must never return (it ends in sx_exit()).
 *
 * The zygote never reads the input: it passes the fd through. It reports each child's raw
 * wait status and CPU time, and SIGKILLs a running child when the client asks (the client's
 * wall-clock timeout) or goes away. A child dies with the zygote (PR_SET_PDEATHSIG).
 * Malformed requests are answered with an error reply, never a crash. The zygote exits 0
 * when the client closes the socket, 2 when it cannot start (a message on stderr).
 *
 * Memory: the child's argv points into static storage of this module, valid for its life.
 * Not thread-safe: called once, from main(), before any thread exists.
 */
#ifndef SX_ZYGOTE_H
#define SX_ZYGOTE_H

/* The wire of the fork server (PROTOCOL.md, "Fork-server requests", version 1). */
#define SX_ZYGOTE_VERSION 1u
#define SX_ZYGOTE_REQUEST_MAGIC "SXZQ"
#define SX_ZYGOTE_REPLY_MAGIC "SXZR"
#define SX_ZYGOTE_REQUEST_HEADER_BYTES 16u
#define SX_ZYGOTE_REPLY_BYTES 40u
#define SX_ZYGOTE_MAX_ARGS 64u
#define SX_ZYGOTE_MAX_STRINGS_BYTES 4096u
#define SX_ZYGOTE_RUN_FDS 3u

#define SX_ZYGOTE_REQ_RUN 1u
#define SX_ZYGOTE_REQ_KILL 2u

#define SX_ZYGOTE_REPLY_READY 1u
#define SX_ZYGOTE_REPLY_STARTED 2u
#define SX_ZYGOTE_REPLY_DONE 3u
#define SX_ZYGOTE_REPLY_ERROR 4u

#define SX_ZYGOTE_ERR_MALFORMED 1u
#define SX_ZYGOTE_ERR_VERSION 2u
#define SX_ZYGOTE_ERR_FDS 3u
#define SX_ZYGOTE_ERR_BUSY 4u
#define SX_ZYGOTE_ERR_FORK 5u

/* Exit status of a zygote that could not start (bad FD, not a SEQPACKET socket, no
 * pidfd_open in this kernel). */
#define SX_ZYGOTE_EXIT_CANNOT_START 2

struct sx_family;

/* See the top of this file. `family` may be NULL (nothing to warm up). Never returns in
 * the zygote itself. */
void sx_zygote_serve_if_asked(int *argc, char ***argv, const struct sx_family *family);

#endif
