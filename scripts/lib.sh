# shellcheck shell=bash
# Helpers shared by the scripts in scripts/ (sourced, not run).
# The sourcing script sets PROG to its own name for messages.

PROG=${PROG:-$(basename "$0")}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

# run CMD...: print the command, then run it.
run() { printf '%s: + %s\n' "$PROG" "$*"; "$@"; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root ($1)"
}

# need_cmd CMD PACKAGE: fail with a hint when a tool is missing.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2 (scripts/setup does)"
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# running PID: true when PID is a live process. Not kill -0: an orphan that
# exited stays a zombie until PID 1 reaps it, and PID 1 here may be slow to.
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

gone() { ! running "$1"; }

# pid_alive PIDFILE: true when the file names a running process.
pid_alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && running "$pid"
}

# pids_of NAME: the running processes whose command name is NAME.
pids_of() {
	local pid
	for pid in $(pgrep -x "$1" || true); do
		if running "$pid"; then printf '%s ' "$pid"; fi
	done
}

# pids_here NAME: those of pids_of NAME in this mount namespace. A libvirtd
# of a multi-node test cluster's node runs in the node's own namespaces and
# serves another /run/libvirt: it is not this machine's libvirtd.
pids_here() {
	local pid here
	here=$(readlink /proc/self/ns/mnt)
	for pid in $(pids_of "$1"); do
		if [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$here" ]; then printf '%s ' "$pid"; fi
	done
}

# sha256 FILE: the file's hex digest.
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# Daemons that others may use (a libvirtd running VMs, a test cluster) are
# stopped only by the script that started them: remember whether they were
# there before starting them, and stop them at the end only if they were not.

# libvirt_up_if_needed SCRIPTS_DIR: libvirtd answering on qemu:///system.
# Runs SCRIPTS_DIR/libvirt-up only when no libvirtd runs; returns 0 when it
# did (the caller runs libvirt-down when done), 1 when libvirtd was already
# running (the caller leaves it alone). Dies when libvirt cannot be used.
libvirt_up_if_needed() {
	if [ -n "$(pids_here libvirtd)" ]; then
		wait_until 30 virsh -c qemu:///system version ||
			die "libvirtd is running but does not answer on qemu:///system"
		return 1
	fi
	"$1/libvirt-up" >/dev/null || die "starting libvirtd failed (scripts/libvirt-up)"
	return 0
}

# close_fds CMD...: runs CMD with only stdin, stdout and stderr open, so that
# a daemon it starts keeps no lock or pipe of the caller's.
close_fds() {
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		exec "$@"
	)
}
