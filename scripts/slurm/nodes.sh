# shellcheck shell=bash
# The multi-node test cluster (scripts/cluster-up --nodes N, N > 1): each
# node in its own network, UTS and mount namespace, joined by a "fabric"
# bridge in a namespace of its own, each with its own libvirtd. Sourced after
# scripts/lib.sh and scripts/slurm/cluster.sh; $state is the cluster's state
# directory. doc/hacking.md ("The multi-node test cluster") describes the
# layout; the names and addresses below are its interface for other scripts.
#
#   node I (1..N)      name nodeI, network namespace hyp-nodeI (/run/netns),
#                      UTS and mount namespaces bound to $state/ns/nodeI.uts
#                      and .mnt, address 10.250.0.(10+I)/24 on its "fab0"
#   fabric             network namespace hyp-fabric, bridge fabric0 (no
#                      address); port "nodeI" is node I's fab0 peer, port
#                      "host" the peer of hypfab0 in the machine's namespace
#   hypfab0            10.250.0.1/24: where slurmctld and the users' commands
#                      reach the nodes from the machine's own namespace
#   $state/nodes/NAME/ that node's libvirt directories (bound over
#                      /run/libvirt, /var/lib/libvirt/qemu, /var/log/libvirt,
#                      /var/cache/libvirt in its mount namespace), the pid
#                      files and logs of its libvirtd and virtlogd
#   $state/nodes.list  the node names, one a line ("NAME plain" for a node
#                      without libvirtd and features)
# No route leaves 10.250.0.0/24 and nothing is NATed: the nodes have no
# default route, the fabric namespace no address at all.

# shellcheck disable=SC2154 # state: set by the sourcing script
fabric_ns=hyp-fabric
fabric_br=fabric0
fabric_net=10.250.0
fabric_host_if=hypfab0
fabric_host_addr=$fabric_net.1
# Jumbo frames on every fabric link, so that a per-job VXLAN (50 bytes of
# headers) can carry guests' full 1500-byte frames.
fabric_mtu=9000
# The directories a node's libvirtd keeps to itself.
node_libvirt_dirs=(/run/libvirt /var/lib/libvirt/qemu /var/log/libvirt /var/cache/libvirt)

node_netns() { printf 'hyp-%s\n' "$1"; }
node_addr() { printf '%s.%d\n' "$fabric_net" $((10 + $1)); }
node_dir() { printf '%s/nodes/%s\n' "$state" "$1"; }
ns_dir() { printf '%s/ns\n' "$state"; }

# node_names: the names in $state/nodes.list (empty when none).
node_names() {
	[ -f "$state/nodes.list" ] || return 0
	cut -d' ' -f1 "$state/nodes.list"
}
node_is_plain() { grep -qxF -- "$1 plain" "$state/nodes.list" 2>/dev/null; }

netns_exists() { [ -e "/run/netns/$1" ]; }
nsfs_bound() { [ "$(stat -f -c %T "$1" 2>/dev/null)" = nsfs ]; }

# node_exec NAME CMD...: runs CMD in node NAME's network, UTS and mount
# namespaces (scripts/slurm/node-exec is the same for the command line).
node_exec() {
	local n=$1 d
	d=$(ns_dir)
	shift
	nsenter --net="/run/netns/$(node_netns "$n")" --uts="$d/$n.uts" --mount="$d/$n.mnt" -- "$@"
}

# --- the fabric ---------------------------------------------------------------
fabric_up() {
	if ! netns_exists "$fabric_ns"; then run ip netns add "$fabric_ns"; fi
	ip -n "$fabric_ns" link set lo up
	if ! ip -n "$fabric_ns" link show "$fabric_br" >/dev/null 2>&1; then
		ip -n "$fabric_ns" link add "$fabric_br" mtu "$fabric_mtu" type bridge
	fi
	ip -n "$fabric_ns" link set "$fabric_br" up
	if ! ip link show "$fabric_host_if" >/dev/null 2>&1; then
		ip link add "$fabric_host_if" mtu "$fabric_mtu" type veth \
			peer name host mtu "$fabric_mtu" netns "$fabric_ns"
	fi
	ip -n "$fabric_ns" link set host master "$fabric_br" up
	ip addr replace "$fabric_host_addr/24" dev "$fabric_host_if"
	ip link set "$fabric_host_if" up
}

fabric_down() {
	if ip link show "$fabric_host_if" >/dev/null 2>&1; then run ip link del "$fabric_host_if"; fi
	if netns_exists "$fabric_ns"; then run ip netns del "$fabric_ns"; fi
}

# --- a node's namespaces ----------------------------------------------------------
# The mount namespace's set-up, run in it: its own hostname, a sysfs that
# shows its network devices (as `ip netns exec` mounts; the cgroup mounts are
# carried over), and its own copies of libvirt's run, state, log and cache
# directories.
# shellcheck disable=SC2016 # expanded by the namespace's shell
node_ns_script='
set -e
n=$1 nd=$2 nsd=$3
shift 3
hostname "$n"
umount -l "$nsd"
if mountpoint -q /sys/fs/cgroup; then
	mkdir -p "$nd/.cgroup"
	mount --rbind /sys/fs/cgroup "$nd/.cgroup"
	mount -t sysfs sysfs /sys
	mount --move "$nd/.cgroup" /sys/fs/cgroup
else
	mount -t sysfs sysfs /sys
fi
for dir; do
	mount --bind "$nd/$(echo "${dir#/}" | tr / -)" "$dir"
done
if [ "$(readlink /var/run)" != /run ] && [ "$(readlink /var/run)" != ../run ]; then
	mount --bind "$nd/run-libvirt" /var/run/libvirt
fi
'

# node_dirs_make NAME: the node's libvirt directories, owned and moded like
# the machine's, with libvirt's cached QEMU capabilities (probing QEMU again
# costs each libvirtd seconds of CPU at start).
node_dirs_make() {
	local nd dir own mode sub
	nd=$(node_dir "$1")
	install -d -m 0755 "$nd"
	for dir in "${node_libvirt_dirs[@]}"; do
		[ -d "$dir" ] || install -d -m 0755 "$dir"
		own=$(stat -c %u:%g "$dir")
		mode=$(stat -c %a "$dir")
		sub="$nd/$(echo "${dir#/}" | tr / -)"
		install -d -o "${own%:*}" -g "${own#*:}" -m "$mode" "$sub"
	done
	sub="$nd/var-cache-libvirt"
	if [ -d /var/cache/libvirt/qemu ] && [ ! -e "$sub/qemu" ]; then
		cp -a /var/cache/libvirt/qemu "$sub/qemu"
	fi
}

# node_up NAME INDEX: the node's namespaces and its link to the fabric.
node_up() {
	local n=$1 i=$2 ns nd nsd
	ns=$(node_netns "$n")
	nd=$(node_dir "$n")
	nsd=$(ns_dir)
	if ! netns_exists "$ns"; then run ip netns add "$ns"; fi
	ip -n "$ns" link set lo up
	if ! ip -n "$ns" link show fab0 >/dev/null 2>&1; then
		ip -n "$fabric_ns" link del "$n" 2>/dev/null || true
		ip -n "$ns" link add fab0 mtu "$fabric_mtu" type veth \
			peer name "$n" mtu "$fabric_mtu" netns "$fabric_ns"
	fi
	ip -n "$fabric_ns" link set "$n" master "$fabric_br" up
	ip -n "$ns" addr replace "$(node_addr "$i")/24" dev fab0
	ip -n "$ns" link set fab0 up
	node_dirs_make "$n"
	nsfs_bound "$nsd/$n.mnt" && nsfs_bound "$nsd/$n.uts" && return 0
	node_ns_unbind "$n"
	touch "$nsd/$n.uts" "$nsd/$n.mnt"
	nsenter --net="/run/netns/$ns" unshare --uts="$nsd/$n.uts" --mount="$nsd/$n.mnt" \
		--propagation private /bin/sh -c "$node_ns_script" sh "$n" "$nd" "$nsd" \
		/run/libvirt /var/lib/libvirt/qemu /var/log/libvirt /var/cache/libvirt ||
		die "could not set up the namespaces of node $n"
	say "node $n: namespaces $ns, $nsd/$n.{uts,mnt}; address $(node_addr "$i") on fab0"
}

node_ns_unbind() {
	local f
	for f in "$(ns_dir)/$1.mnt" "$(ns_dir)/$1.uts"; do
		if nsfs_bound "$f"; then umount "$f" || umount -l "$f"; fi
		rm -f "$f"
	done
}

# ns_dir_up: $state/ns, a private mount so that namespaces can be bound in it.
ns_dir_up() {
	local d
	d=$(ns_dir)
	install -d -m 0755 "$d"
	mountpoint -q "$d" || mount --bind "$d" "$d"
	mount --make-private "$d"
}

# node_pids NAME: the processes in the node's network namespace.
node_pids() {
	local ns
	ns=$(node_netns "$1")
	netns_exists "$ns" || return 0
	ip netns pids "$ns" 2>/dev/null || true
}

# node_down NAME: stops its libvirtd and what is left in its namespaces (every
# process there was started by this cluster), removes the namespaces and its
# fabric link. The logs in $state/nodes/NAME stay.
node_down() {
	local n=$1 pid
	node_libvirt_down "$n"
	for pid in $(node_pids "$n"); do
		stop_pid "$(cat "/proc/$pid/comm" 2>/dev/null || echo process) in node $n" "$pid"
	done
	node_ns_unbind "$n"
	if netns_exists "$(node_netns "$n")"; then run ip netns del "$(node_netns "$n")"; fi
	if netns_exists "$fabric_ns"; then ip -n "$fabric_ns" link del "$n" 2>/dev/null || true; fi
	rm -rf "$(node_dir "$n")/run-libvirt"
}

# nodes_down: every node in nodes.list, then the fabric and $state/ns.
nodes_down() {
	local n d
	for n in $(node_names); do node_down "$n"; done
	fabric_down
	d=$(ns_dir)
	if mountpoint -q "$d"; then umount "$d" || umount -l "$d"; fi
	rm -rf "$d"
	rm -f "$state/nodes.list"
}

# --- a node's libvirtd ----------------------------------------------------------------
node_virsh() { node_exec "$1" virsh -c qemu:///system "${@:2}"; }

# node_spawn NAME LOG CMD...: a daemon in the node's namespaces, in its own
# session, with only stdin/stdout/stderr open.
node_spawn() {
	local n=$1 log=$2
	shift 2
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		LIBVIRT_LOG_OUTPUTS="3:stderr" exec nsenter --net="/run/netns/$(node_netns "$n")" \
			--uts="$(ns_dir)/$n.uts" --mount="$(ns_dir)/$n.mnt" -- setsid "$@" \
			</dev/null >>"$log" 2>&1
	) &
}

# node_libvirt_up NAME: the node's virtlogd and libvirtd (under tini -s, which
# reaps QEMU at once, as scripts/libvirt-up explains); waits until its
# qemu:///system answers.
node_libvirt_up() {
	local n=$1 nd reaper=()
	nd=$(node_dir "$n")
	if ! daemon_pid virtlogd "$nd/virtlogd.pid" >/dev/null; then
		rm -f "$nd/virtlogd.pid"
		node_spawn "$n" "$nd/virtlogd.log" virtlogd -p "$nd/virtlogd.pid"
		wait_until 10 daemon_pid virtlogd "$nd/virtlogd.pid" ||
			die "node $n: virtlogd did not start (see $nd/virtlogd.log)"
	fi
	if ! daemon_pid libvirtd "$nd/libvirtd.pid" >/dev/null; then
		rm -f "$nd/libvirtd.pid"
		if command -v tini >/dev/null; then reaper=(tini -s --); fi
		node_spawn "$n" "$nd/libvirtd.log" "${reaper[@]}" libvirtd -p "$nd/libvirtd.pid"
		wait_until 10 daemon_pid libvirtd "$nd/libvirtd.pid" ||
			die "node $n: libvirtd did not start (see $nd/libvirtd.log)"
	fi
	wait_until 60 node_virsh "$n" version ||
		die "node $n: libvirtd does not answer on qemu:///system (see $nd/libvirtd.log)"
	say "node $n: libvirtd $(daemon_pid libvirtd "$nd/libvirtd.pid"), virtlogd $(daemon_pid virtlogd "$nd/virtlogd.pid")"
}

# node_libvirt_down NAME: its libvirtd, then its virtlogd. QEMU processes of
# domains still running stay (node_down ends them with the namespace).
node_libvirt_down() {
	local nd pid d
	nd=$(node_dir "$1")
	for d in libvirtd virtlogd; do
		if pid=$(daemon_pid "$d" "$nd/$d.pid"); then stop_pid "$d of node $1" "$pid"; fi
		rm -f "$nd/$d.pid"
	done
}
