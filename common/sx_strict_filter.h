/* sx_strict_filter.h: a seccomp-BPF filter exactly as strict as SECCOMP_MODE_STRICT, for
 * processes that already run under a seccomp filter (Docker's and Podman's default profiles,
 * Kubernetes RuntimeDefault, systemd's SystemCallFilter=, Flatpak). The kernel refuses strict
 * mode to such a task (EINVAL), but it lets it add a filter: filters stack and the most
 * restrictive verdict wins, so the result is never weaker than ours alone.
 *
 * The filter: x86_64 syscalls only (i386 through int 0x80 is killed: its numbers name other
 * calls), no x32 numbers, and then read, write, exit and rt_sigreturn; everything else is
 * SECCOMP_RET_KILL_PROCESS (the kernel ends the process with an uncatchable SIGSYS).
 *
 * Phase: the strict line only (sx_enter_strict_mode() calls it). Installing needs
 * PR_SET_NO_NEW_PRIVS (set in setup by sx_harden) unless the caller has CAP_SYS_ADMIN.
 * Returns 0 once the filter is in force, else the errno of the failed prctl (EACCES: no
 * new privileges not set; EPERM or ENOSYS: the outer profile forbids it; EINVAL: a kernel
 * without CONFIG_SECCOMP_FILTER), with nothing installed. x86_64 only: elsewhere it
 * returns ENOSYS without trying.
 */
#ifndef SX_STRICT_FILTER_H
#define SX_STRICT_FILTER_H

int sx_strict_filter_install(void);

#endif
