#!/bin/bash
# Devices on a real single-node Slurm cluster whose node has one GRES GPU on
# a fake device file (scripts/cluster-up --gres-gpus 1), mapped by
# hyperion.conf's gpu_devices to a real PCI device of this machine. These
# machines have no IOMMU: a --gres=gpu:1 --vm-image job must fail at once
# with a message naming the GPU's PCI address and "VFIO not available on this
# node", the node must not be drained, and nothing may be left. Also: the
# user's environment selects no GPU, VF pool errors, hyperionctl check, and
# libvirt's QEMU driver accepting the device XML (define, never start).
#
# usage: test-devices.sh BUILD_DIR APPLIANCE_DIR
# Needs root; starts the cluster with scripts/cluster-up and stops it again:
# run it under flock /run/hyperion-slurm.lock. About 1 to 2 minutes.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
user=hyptest1
ensure_user "$user"
ctl="$build/tools/ctl/hyperionctl"

if [ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	# The test hands a real PCI device of this machine to the job: only
	# safe where VFIO cannot take it.
	echo "SKIP this node has an IOMMU: test-devices.sh would pass a real device through"
	summary
	exit 0
fi
pci=
for d in /sys/bus/pci/devices/*; do
	case $(cat "$d/class" 2>/dev/null) in 0x0600* | 0x0604* | "") continue ;; esac
	pci=${d##*/}
	break
done
if [ -z "$pci" ]; then
	echo "SKIP no PCI device on this machine to stand for the GPU"
	summary
	exit 0
fi

tmp=$(mktemp -d /tmp/hyperion-devices-it.XXXXXX)
chmod 755 "$tmp"
cluster=/run/hyperion-cluster # cluster-up's default --state
state=/run/hyperion-devices-it
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d"
cat >"$conf" <<CONF
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
images = $tmp/images.d
gres_conf = $cluster/gres.conf
gpu_devices = $cluster/dev/gpu0=$pci

[vf_pool fabric]
pf = $pci
vlan = 42
mac_prefix = 52:54:01
CONF
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
CONF
home=$(getent passwd "$user" | cut -d: -f6)
work="$home/hyperion-devices-it"
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"
printf '#!/bin/sh\nuname -r\n' >"$work/job.sh"
chmod 755 "$work/job.sh"

cleanup() {
	"$top/scripts/cluster-down" >/dev/null 2>&1
	virsh -c qemu:///system undefine hyperion-devit-7190 >/dev/null 2>&1
	rm -rf "$tmp" "$work" "$state"
}
trap cleanup EXIT

echo "== a GRES GPU on a node without VFIO"
if ! "$top/scripts/cluster-up" --plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$conf" \
	--exec "$build/tools/exec/hyperion-exec" --features hyperion,hyperion_tcg --gres-gpus 1 \
	--no-check >"$tmp/cluster-up.log" 2>&1; then
	cat "$tmp/cluster-up.log"
	fail "cluster-up --gres-gpus 1"
	summary
	exit 1
fi
pass "cluster up with one GRES GPU"

as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }
kernel=$(cat "$appliance/kernel-release")
node=$(hostname -s)
leases() { find "$state/.vf" -type f ! -name .lock 2>/dev/null; }
nothing_left() { # no domain, state directory, lock, resource list, record or VF lease of job $1
	! virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null &&
		[ ! -e "$state/$node/job.$1" ] && [ ! -e "$state/$node/job.$1.lock" ] &&
		[ ! -e "$state/$node/job.$1.res" ] && [ ! -e "$state/$node/job.$1.options" ] &&
		[ -z "$(leases)" ]
}
wait_nothing_left() { # JOB SECONDS
	local _
	for _ in $(seq "$2"); do nothing_left "$1" && return 0; sleep 1; done
	nothing_left "$1"
}
job_field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
node_state() { sinfo -h -n "$node" -o %T; }
not_drained() { expect_match "$1" "^(idle|mixed|allocated|completing)" "$(node_state)"; }

expect_match "the node has the GPU" "gpu:1" "$(scontrol show node "$node" | grep -i gres)"

jid=$(as_user sbatch --parsable --wait --gres=gpu:1 --vm-image=default -o "$work/gpu-%j.txt" \
	"$work/job.sh")
jid=${jid%%;*}
out=$(cat "$work/gpu-$jid.txt" 2>/dev/null)
echo "job output: $out"
expect_match "--gres=gpu:1 fails with a message naming the GPU's PCI address" \
	"hyperion: .*GPU $pci" "$out"
expect_match "... and that VFIO is not available here" "VFIO not available on this node" "$out"
expect_match "... the job fails" "^[1-9]" "$(job_field "$jid" ExitCode)"
not_drained "... the node is not drained"
check "... and nothing is left" wait_nothing_left "$jid" 15

echo "== the user's environment selects no GPU"
out=$(as_user env SLURM_JOB_GPUS=0 CUDA_VISIBLE_DEVICES=0 srun --export=ALL --vm-image=default \
	uname -r 2>&1)
expect_eq "a job without --gres runs in its VM, SLURM_JOB_GPUS=0 in its environment or not" \
	"$kernel" "$out"

echo "== VF pools"
jid=$(as_user sbatch --parsable --wait --vm-vf=fabric --vm-image=default \
	-o "$work/vf-%j.txt" "$work/job.sh")
jid=${jid%%;*}
expect_match "a pool whose PF has no VFs fails the job, naming it" \
	"hyperion: .*physical function $pci has no virtual functions" \
	"$(cat "$work/vf-$jid.txt" 2>/dev/null)"
not_drained "... the node is not drained"
check "... and nothing is left" wait_nothing_left "$jid" 15
jid=$(as_user sbatch --parsable --wait --vm-vf=nope:2 --vm-image=default \
	-o "$work/nope-%j.txt" "$work/job.sh")
jid=${jid%%;*}
expect_match "an unknown pool fails the job, naming the pools" \
	"hyperion: .*no pool 'nope' on this node \(pools: fabric\)" \
	"$(cat "$work/nope-$jid.txt" 2>/dev/null)"
not_drained "... the node is not drained"

echo "== hyperionctl check"
out=$("$ctl" --config "$conf" check 2>&1)
expect_match "check lists the node's GRES GPU and says VFIO is missing" \
	"warn gpus: $cluster/dev/gpu0=$pci; but VFIO is not available on this node" "$out"
expect_match "check names the pool's problem" "warn vf_pool fabric: .*no virtual functions" "$out"

echo "== libvirt accepts the device XML (defined, never started)"
fake="$tmp/sys" # another machine's sysfs: usNIC VFs 0b:00.1-2 of 16intel64-manyVFs.xml
for f in 0 1 2; do
	dev="$fake/devices/pci0000:00/0000:0b:00.$f"
	mkdir -p "$dev" "$fake/bus/pci/devices" "$fake/kernel/iommu_groups/$((10 + f))/devices"
	ln -s "../../../devices/pci0000:00/0000:0b:00.$f" "$fake/bus/pci/devices/0000:0b:00.$f"
	ln -s "../../../kernel/iommu_groups/$((10 + f))" "$dev/iommu_group"
	echo 0 >"$dev/numa_node"
	echo 0x020000 >"$dev/class"
	[ "$f" = 0 ] || ln -s "../0000:0b:00.0" "$dev/physfn"
	[ "$f" = 0 ] || ln -s "../0000:0b:00.$f" "$fake/devices/pci0000:00/0000:0b:00.0/virtfn$((f - 1))"
done
echo 2 >"$fake/devices/pci0000:00/0000:0b:00.0/sriov_numvfs"
sed -i "s/^pf = .*/pf = 0000:0b:00.0/" "$conf"
"$ctl" --config "$conf" xml --job 7190 --node devit --user "$user" --cpus 0-1,8-9 --memory 1024 \
	--image default --topology "$top/test/data/topologies/32em64t-2n8c2t-pci-normalio.xml" \
	--gpus 0000:03:00.0,0000:84:00.0 --vfs fabric:2 --sysfs "$fake" >"$tmp/dev.xml" 2>&1
expect_match "hyperionctl xml: two expander buses, three hostdevs, two VF interfaces" \
	"^2 3 2$" "$(grep -c pcie-expander-bus "$tmp/dev.xml") $(grep -c '<hostdev' "$tmp/dev.xml") $(grep -c "<interface type=\"hostdev\"" "$tmp/dev.xml")"
check "virt-xml-validate accepts it" virt-xml-validate "$tmp/dev.xml" domain
check "libvirt's QEMU driver defines it" virsh -c qemu:///system define "$tmp/dev.xml"
virsh -c qemu:///system undefine hyperion-devit-7190 >/dev/null 2>&1
expect_eq "... and the dry run leased nothing" "" "$(leases)"

summary
