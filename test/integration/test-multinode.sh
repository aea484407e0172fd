#!/bin/bash
# The multi-node test cluster (scripts/cluster-up --nodes 3): three Slurm
# nodes in their own namespaces, each with its own libvirtd; a 2-node VM job
# gets one VM per node, named as its node; scancel and cluster-down leave
# nothing. As the non-root user hyptest1.
#
# usage: test-multinode.sh BUILD_DIR APPLIANCE_DIR
# Needs root; run under flock /run/hyperion-slurm.lock (it starts and stops
# the test cluster). About 2 minutes.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$here/multinode-lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
user=hyptest1
ensure_user "$user"
ensure_user hyptest2
tmp=$(mktemp -d /tmp/hyperion-multinode-it.XXXXXX)
chmod 755 "$tmp"
cstate=/run/hyperion-cluster-multinode
hstate=/run/hyperion-multinode-it
export SLURM_CONF=$cstate/slurm.conf
write_hyperion_conf
kernel=$(cat "$appliance/kernel-release")
work=$(getent passwd "$user" | cut -d: -f6)/hyperion-multinode-it
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"
as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }

cleanup() {
	"$top/scripts/cluster-down" --state "$cstate" --purge >/dev/null 2>&1
	rm -rf "$tmp" "$work" "$hstate"
}
trap cleanup EXIT

up() {
	"$top/scripts/cluster-up" --state "$cstate" --nodes 3 \
		--plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$tmp/hyperion.conf" \
		--exec "$build/tools/exec/hyperion-exec" --features hyperion,hyperion_tcg "$@"
}

echo "== cluster-up --nodes 3"
if ! up >"$tmp/up.log" 2>&1; then
	cat "$tmp/up.log"
	fail "cluster-up --nodes 3"
	summary
	exit 1
fi
pass "cluster-up --nodes 3 (it ran srun -N 3 and sbatch as $user itself)"
expect_eq "sinfo shows three idle nodes" "node1 idle|node2 idle|node3 idle" \
	"$(sinfo -h -N -o '%N %T' | sort | paste -sd '|')"
expect_eq "srun -N 3 hostname (no VM) prints the three node names" "node1 node2 node3" \
	"$(as_user srun -N 3 hostname 2>&1 | sort | paste -sd ' ')"
expect_eq "each node's slurmd has its own address" "10.250.0.11 10.250.0.12 10.250.0.13" \
	"$(scontrol show node | sed -n 's/.*NodeAddr=\([^ ]*\).*/\1/p' | sort | paste -sd ' ')"
for n in node1 node2 node3; do
	expect_eq "$n: own hostname, only lo and fab0, no default route" "$n|fab0 lo" \
		"$(on "$n" sh -c 'hostname; ls /sys/class/net | sort | paste -sd " "; ip route show default' |
			paste -sd '|')"
done
check "node1 reaches node3 over the fabric (slurmd's port)" on node1 bash -c 'exec 3<>/dev/tcp/10.250.0.13/6818'
check "node1's libvirtd is its own: a socket apart from the machine's" \
	test -S "$cstate/nodes/node1/run-libvirt/libvirt-sock"
up --no-check >"$tmp/up2.log" 2>&1
expect_match "cluster-up a second time: already up, nothing restarted" "already up with this configuration" \
	"$(cat "$tmp/up2.log")"

echo "== sbatch -N 2 --vm-image=default"
# shellcheck disable=SC2016 # expanded in the guest
jid=$(as_user sbatch --parsable -N 2 --vm-image=default -o "$work/out-%j.txt" \
	--wrap 'echo "first $(hostname) $(uname -r)"; sleep 600')
jid=${jid%%;*}
wait_for 120 test "$(job_field "$jid" JobState)" = RUNNING
nodes=$(scontrol show hostnames "$(job_field "$jid" NodeList)" | paste -sd ' ')
read -r n1 n2 <<<"$nodes"
expect_match "the job runs on two nodes" "^node[1-3] node[1-3]$" "$nodes"
vm_on() { domains "$1" | grep -qx "hyperion-$1-$jid"; }
check "a VM on $n1, on $n1's libvirtd (the batch step's)" wait_for 60 vm_on "$n1"
wait_for 60 grep -q first "$work/out-$jid.txt"
expect_eq "the batch script runs in the first node's VM, whose hostname is the node's" \
	"first $n1 $kernel" "$(cat "$work/out-$jid.txt" 2>/dev/null)"
# The plugin boots a node's VM for the first step that runs there: the batch
# step on the first node, this one on the second.
# shellcheck disable=SC2016 # expanded in the guests
out=$(as_user srun --jobid="$jid" --overlap -N 2 -n 2 sh -c 'echo $(hostname) $(uname -r)' 2>&1 | sort)
expect_eq "a step on both nodes runs in both VMs, each named as its node" \
	"$n1 $kernel|$n2 $kernel" "$(paste -sd '|' <<<"$out")"
check "a VM on $n2, on $n2's libvirtd" vm_on "$n2"
expect_eq "one VM per node: still one on $n1" "hyperion-$n1-$jid" "$(domains "$n1")"
other=$(printf 'node1\nnode2\nnode3\n' | grep -vxF -e "$n1" -e "$n2")
expect_eq "no VM on the third node ($other)" "" "$(domains "$other")"
expect_eq "the machine's own libvirtd has no domain of the job" "" \
	"$(virsh -c qemu:///system list --all --name 2>/dev/null | grep -- "-$jid\$")"
as_user scancel "$jid"
check "scancel: no domain, state directory or lock of the job on any node" \
	wait_for 30 nothing_of_job "$jid" node1 node2 node3
expect_eq "... and the nodes are idle again" "node1 idle|node2 idle|node3 idle" \
	"$(sinfo -h -N -o '%N %T' | sort | paste -sd '|')"

echo "== cluster-down"
"$top/scripts/cluster-down" --state "$cstate" >"$tmp/down.log" 2>&1
expect_eq "cluster-down succeeds" 0 "$?"
check "no namespace, veth, bridge, daemon or mount of the cluster is left" world_gone
check "the machine keeps its own network: no route to 10.250.0.0/24" \
	sh -c '! ip route | grep -q "^10\.250\.0\."'
"$top/scripts/cluster-down" --state "$cstate" >"$tmp/down2.log" 2>&1
expect_eq "cluster-down a second time is fine" 0 "$?"
summary
