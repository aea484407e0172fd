# shellcheck shell=bash
# shellcheck disable=SC2154 # top, tmp, appliance, cstate, hstate: set by the sourcing script
# Shared by test-multinode.sh and test-features.sh: a hyperion.conf and image
# catalog for the multi-node test cluster, and checks against its nodes.
# The sourcing script sets top, build, appliance, tmp, cstate (the cluster's
# state directory) and hstate (Hyperion's state_dir).

# write_hyperion_conf: $tmp/hyperion.conf with the appliance as "default".
write_hyperion_conf() {
	mkdir -p "$tmp/images.d"
	cat >"$tmp/hyperion.conf" <<-CONF
		domain_type = qemu
		state_dir = $hstate
		vmm_reserve_mb = 64
		images = $tmp/images.d
		shares = /home
		network_bridge = fab0
	CONF
	cat >"$tmp/images.d/test.conf" <<-CONF
		[image default]
		kind = appliance
		kernel = $appliance/vmlinuz
		initrd = $appliance/initrd.img
	CONF
}

# on NODE CMD...: CMD in the node's namespaces
on() { "$top/scripts/slurm/node-exec" --state "$cstate" "$@"; }
# domains NODE: the names of the Hyperion domains on the node's libvirtd
domains() { on "$1" virsh -c qemu:///system list --all --name 2>/dev/null | grep '^hyperion-' || true; }
job_field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# wait_for SECONDS CMD...: until CMD succeeds (1 s steps)
wait_for() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
	"$@" >/dev/null 2>&1
}
# nothing_of_job JOB NODE...: no domain, state directory or lock of the job
nothing_of_job() {
	local j=$1 n
	shift
	for n in "$@"; do
		domains "$n" | grep -q -- "-$j\$" && return 1
		compgen -G "$hstate/$n/job.$j*" >/dev/null && return 1
	done
	return 0
}
# world_gone: no namespace, veth, bridge, daemon or mount of the cluster left
world_gone() {
	local left=""
	left+=$(ip netns list 2>/dev/null | grep -E '^hyp-(node[0-9]+|fabric)( |$)' || true)
	left+=$(ip link show hypfab0 2>/dev/null || true)
	left+=$(grep -F " $cstate" /proc/mounts || true)
	# slurmctld, slurmd, libvirtd, virtlogd: each has the state directory
	# in its command line
	left+=$(pgrep -a -f -- "$cstate/" || true)
	[ -z "$left" ] || { echo "$left"; return 1; }
}
