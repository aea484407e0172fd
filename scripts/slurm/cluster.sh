# shellcheck shell=bash
# Helpers shared by scripts/cluster-up and scripts/cluster-down (sourced after
# scripts/lib.sh). The cluster's files, all under the state directory $state:
#
#   slurm.conf, plugstack.conf   what the daemons run with (/etc/slurm/slurm.conf
#                                is a symlink to this slurm.conf while it is up)
#   stamp                        digest of the configuration and the plugin
#   started                      one line per thing cluster-up started:
#                                munged, slurmctld, slurmd, libvirt
#   slurmctld.pid, slurmd.pid    written by the daemons
#   munge/munged.pid, .log       munged's (the directory belongs to munge)
#   ctld/, spool/                StateSaveLocation (user slurm), SlurmdSpoolDir
#   log/                         slurmctld.log, slurmd.log,
#                                jobcomp.log, *.stderr
# With --nodes N (scripts/slurm/nodes.sh): slurmd.NODE.pid,
# log/slurmd.NODE.log, spool/NODE/, nodes.list, nodes/NODE/ (the node's
# libvirt directories and daemons), ns/ (its UTS and mount namespaces),
# healthcheck (with --health-check).

# shellcheck disable=SC2154 # state: set by the sourcing script
etc_conf=/etc/slurm/slurm.conf
etc_saved=/etc/slurm/slurm.conf.hyperion-saved

# Slurm client commands run by these scripts use the cluster's own config.
use_state_conf() {
	local v
	for v in $(compgen -e); do
		case $v in SLURM_*) unset "$v" ;; esac
	done
	export SLURM_CONF=$state/slurm.conf
}

# daemon_pid NAME PIDFILE: prints the pid if PIDFILE names a live (not
# zombie) process whose command name is NAME; 1 otherwise.
daemon_pid() {
	local pid st
	[ -s "$2" ] || return 1
	pid=$(head -n 1 "$2" 2>/dev/null | tr -dc 0-9) || return 1
	[ -n "$pid" ] || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] || return 1
	printf '%s\n' "$pid"
}

# gone PID: true when the process no longer exists or is a zombie.
gone() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}

# stop_pid NAME PID: SIGTERM, up to 15 s for it to exit, then SIGKILL.
stop_pid() {
	local name=$1 pid=$2
	gone "$pid" && return 0
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 15 gone "$pid"; then
		warn "$name (pid $pid) still there after 15 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_until 5 gone "$pid" || warn "$name (pid $pid) did not die"
	fi
	# An orphaned daemon stays a zombie until PID 1 reaps it: give it a moment
	# so that pgrep right after us does not list it.
	wait_until 3 test ! -e "/proc/$pid" || true
}

# started_has WHAT: cluster-up recorded that it started WHAT.
started_has() {
	[ -f "$state/started" ] && grep -qxF -- "$1" "$state/started"
}

# other_pids NAME PIDFILE: pids of processes called NAME other than the one
# in PIDFILE (a Slurm or munge daemon that this cluster did not start).
other_pids() {
	local ours
	ours=$(daemon_pid "$1" "$2" || true)
	{ pgrep -x "$1" || true; } | { grep -vxF -- "${ours:-none}" || true; } | while read -r p; do
		gone "$p" || printf '%s\n' "$p"
	done
}

# restore_etc_conf: undo what cluster-up did to /etc/slurm/slurm.conf.
restore_etc_conf() {
	if [ -L "$etc_conf" ] && [ "$(readlink "$etc_conf")" = "$state/slurm.conf" ]; then
		rm -f "$etc_conf"
		say "removed $etc_conf (link to $state/slurm.conf)"
	fi
	if [ -e "$etc_saved" ] || [ -L "$etc_saved" ]; then
		if [ -e "$etc_conf" ] || [ -L "$etc_conf" ]; then
			warn "$etc_conf exists and is not ours: leaving it, the saved copy stays in $etc_saved"
		else
			mv -f "$etc_saved" "$etc_conf"
			say "restored $etc_conf"
		fi
	fi
}
