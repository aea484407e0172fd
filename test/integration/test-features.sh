#!/bin/bash
# Node features and the health check on the multi-node test cluster (issue
# 14): node1 is a plain node (no libvirtd, no features), node2 and node3
# advertise what `hyperionctl check --features` prints. A VM job without
# --constraint lands on a feature node while node1 is idle; stopping node2's
# libvirtd makes the health check (HealthCheckProgram, every 5 s) drain it
# with a readable reason, and starting it again brings node2 back.
#
# usage: test-features.sh BUILD_DIR APPLIANCE_DIR
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
tmp=$(mktemp -d /tmp/hyperion-features-it.XXXXXX)
chmod 755 "$tmp"
cstate=/run/hyperion-cluster-features
hstate=/run/hyperion-features-it
export SLURM_CONF=$cstate/slurm.conf
write_hyperion_conf
kernel=$(cat "$appliance/kernel-release")
work=$(getent passwd "$user" | cut -d: -f6)/hyperion-features-it
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"
as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }

cleanup() {
	"$top/scripts/cluster-down" --state "$cstate" --purge >/dev/null 2>&1
	rm -rf "$tmp" "$work" "$hstate"
}
trap cleanup EXIT

echo "== cluster-up --nodes 3 --plain-nodes 1 --features auto --health-check=5"
if ! "$top/scripts/cluster-up" --state "$cstate" --nodes 3 --plain-nodes 1 \
	--plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$tmp/hyperion.conf" \
	--exec "$build/tools/exec/hyperion-exec" --hyperionctl "$build/tools/ctl/hyperionctl" \
	--features auto --health-check=5 >"$tmp/up.log" 2>&1; then
	cat "$tmp/up.log"
	fail "cluster-up"
	summary
	exit 1
fi
pass "cluster-up with a plain node and two feature nodes"
state_of() { sinfo -h -N -n "$1" -o %T; }
reason_of() { sinfo -R -h -n "$1" -o %E; }
features=$(sinfo -h -N -o '%N %f' | sort)
printf '     sinfo: %s\n' "${features//$'\n'/, }"
expect_eq "node1, the plain node, has no features" "node1 (null)" "$(grep '^node1 ' <<<"$features")"
for n in node2 node3; do
	expect_match "$n advertises hyperion and hyperion_tcg ('hyperionctl check --features' in the node)" \
		"^$n (.*,)?hyperion(,.*)?\$" "$(grep "^$n " <<<"$features")"
	expect_match "... and hyperion_tcg" "^$n .*hyperion_tcg" "$(grep "^$n " <<<"$features")"
done

echo "== a VM job lands on a feature node, without --constraint"
expect_eq "a job without --vm-image goes to node1 (Slurm's first choice)" node1 \
	"$(as_user srun -N 1 hostname 2>&1)"
idle1() { [ "$(state_of node1)" = idle ]; }
check "node1 is idle" wait_for 15 idle1
expect_match "a VM job cannot be sent to node1 even by name" "not available|[Ii]nvalid" \
	"$(as_user sbatch --vm-image=default -w node1 -o /dev/null --wrap true 2>&1)"
# shellcheck disable=SC2016 # expanded in the guest
jid=$(as_user sbatch --parsable --wait --vm-image=default -o "$work/out-%j.txt" \
	--wrap 'echo "$(hostname) $(uname -r)"')
jid=${jid%%;*}
ran_on=$(job_field "$jid" NodeList)
expect_match "sbatch --vm-image=default lands on a feature node" "^node[23]\$" "$ran_on"
expect_eq "... and its VM ran the script, named as the node" "$ran_on $kernel" \
	"$(cat "$work/out-$jid.txt" 2>/dev/null)"
expect_eq "... because job_submit.lua gave it the constraint 'hyperion'" hyperion \
	"$(job_field "$jid" Features)"

echo "== the health check drains a node whose libvirtd is down"
"$top/scripts/slurm/node-libvirt" --state "$cstate" down node2 >"$tmp/lv.log" 2>&1
check "node2's libvirtd stopped" sh -c "! $top/scripts/slurm/node-exec --state $cstate node2 \
	virsh -c qemu:///system version"
drained() { [[ $(state_of node2) == drain* ]]; }
check "within 20 s node2 is drained" wait_for 20 drained
expect_match "... with a reason an admin reads in sinfo -R" "^hyperion: libvirt" "$(reason_of node2)"
echo "     sinfo -R: $(reason_of node2)"
expect_eq "node3 is not disturbed" idle "$(state_of node3)"
jid=$(as_user sbatch --parsable --wait --vm-image=default -o /dev/null --wrap true)
expect_eq "a VM job now goes to node3" node3 "$(job_field "${jid%%;*}" NodeList)"
"$top/scripts/slurm/node-libvirt" --state "$cstate" up node2 >>"$tmp/lv.log" 2>&1
expect_eq "node2's libvirtd started again" 0 "$?"
back() { [ "$(state_of node2)" = idle ] && [ -z "$(sinfo -R -h -n node2 -o %E)" ]; }
check "within 20 s the health check brings node2 back (idle, no reason)" wait_for 20 back

echo "== cluster-down"
"$top/scripts/cluster-down" --state "$cstate" >"$tmp/down.log" 2>&1
expect_eq "cluster-down succeeds" 0 "$?"
check "no namespace, veth, bridge, daemon or mount of the cluster is left" world_gone
summary
