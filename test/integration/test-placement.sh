#!/bin/bash
# Placement against a real libvirtd and real TCG guests: a two-cell guest
# booted from a synthetic two-node topology (cells, pinning, per-node memory
# seen inside the guest), and guests backed by 2 MiB hugepages (pages taken
# while the guest runs, given back at stop; too few pages fail the start with
# the numbers and leave nothing).
#
# usage: test-placement.sh BUILD_DIR APPLIANCE_DIR
# Needs root, a running libvirtd (scripts/libvirt-up), a built appliance and
# hwloc's lstopo-no-graphics. Changes /proc/sys/vm/nr_hugepages while it
# runs and puts the old value back.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
node=$(hostname -s)

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
ctl="$build/tools/ctl/hyperionctl"
exec_tool="$build/tools/exec/hyperion-exec"
user=hyptest1
jobs="300 301 302 303 304"

if [ "$(id -u)" -ne 0 ] || ! command -v lstopo-no-graphics >/dev/null; then
	fail "test-placement.sh needs root and lstopo-no-graphics (hwloc)"
	summary
	exit 1
fi
ensure_user "$user"

tmp=$(mktemp -d /tmp/hyperion-place-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-place-it
mkdir -p "$tmp/images.d"
# bind.conf: memory bound to the host nodes (the default); nobind.conf: cells
# without binding, so that a guest can have a cell on host node 1, which
# this one-node machine lacks (libvirt refuses strict binding to it).
write_conf() {
	cat <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 60
images = $tmp/images.d
numa_bind = $1
CONF
}
write_conf yes >"$tmp/bind.conf"
write_conf no >"$tmp/nobind.conf"
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
CONF

nr_hugepages=/proc/sys/vm/nr_hugepages
old_nr=$(cat "$nr_hugepages")
cleanup() {
	for j in $jobs; do "$ctl" -c "$tmp/bind.conf" stop --job "$j" >/dev/null 2>&1; done
	echo "$old_nr" >"$nr_hugepages"
	rm -rf "$tmp"
	rmdir "$state" 2>/dev/null
}
trap cleanup EXIT

# ctl CONF ARGS...: hyperionctl with bind.conf or nobind.conf.
ctl() { local conf=$1; shift; "$ctl" -c "$tmp/$conf.conf" "$@"; }
# hx JOB ARGS...: hyperion-exec as the job user.
hx() { local job=$1; shift; runuser -u "$user" -- "$exec_tool" --config "$tmp/bind.conf" --job "$job" "$@" </dev/null; }
domain_exists() { virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null; }
# nothing_left JOB: no domain, no state directory, no lock.
nothing_left() {
	! domain_exists "$1" && [ ! -e "$state/$node/job.$1" ] && [ ! -e "$state/$node/job.$1.lock" ]
}
# hp FIELD: HugePages_FIELD from /proc/meminfo (Total, Free, Rsvd, Surp).
hp() { awk -v k="HugePages_$1:" '$1 == k { print $2 }' /proc/meminfo; }
# reserve N: exactly N free 2 MiB pages beyond those in use now.
reserve() {
	local used=$(($(hp Total) - $(hp Free)))
	echo $((used + $1)) >"$nr_hugepages"
	[ "$(hp Free)" -eq "$1" ]
}

echo "== two NUMA cells from a synthetic two-node machine"
topo="$tmp/two-nodes.xml"
lstopo-no-graphics -i "node:2 core:1 pu:1" --of xml "$topo"
expect_eq "the synthetic machine has PU 0 on node 0 and PU 1 on node 1" "0 1" \
	"$(hwloc-calc -i "$topo" --po -I numa pu:0) $(hwloc-calc -i "$topo" --po -I numa pu:1)"
alloc=(--user "$user" --cpus 0-1 --memory 576 --image default --topology "$topo")
cell_kib=$(((576 - 64) * 1024 / 2))
xml=$(ctl bind xml --job 300 "${alloc[@]}")
expect_match "xml: cell 0 holds vCPU 0" "<cell id=\"0\" cpus=\"0\" memory=\"$cell_kib\"" "$xml"
expect_match "xml: cell 1 holds vCPU 1" "<cell id=\"1\" cpus=\"1\" memory=\"$cell_kib\"" "$xml"
expect_match "xml (numa_bind = yes): cell 0 bound to host node 0" \
	"<memnode cellid=\"0\" mode=\"strict\" nodeset=\"0\"/>" "$xml"
expect_match "xml (numa_bind = yes): cell 1 bound to host node 1" \
	"<memnode cellid=\"1\" mode=\"strict\" nodeset=\"1\"/>" "$xml"
xml=$(ctl nobind xml --job 300 "${alloc[@]}")
expect_match "xml (numa_bind = no): still two cells" "<cell id=\"1\" cpus=\"1\"" "$xml"
if printf '%s' "$xml" | grep -q numatune; then
	fail "xml (numa_bind = no): no <numatune>" "$xml"
else
	pass "xml (numa_bind = no): no <numatune>"
fi
xml=$(ctl bind xml --job 300 "${alloc[@]}" --hugepages 2M)
expect_match "xml with 2M pages: every cell backed by hugepages" \
	"<page size=\"2048\" unit=\"KiB\" nodeset=\"0-1\"/>" "$xml"

check "start the two-cell guest (numa_bind = no)" ctl nobind start --job 301 "${alloc[@]}"
# One session for everything: "node<N> <cpulist> <MemTotal KiB>" per node.
nodes=$(hx 301 -- sh -c 'cd /sys/devices/system/node && for n in node*; do
	echo "$n $(cat $n/cpulist) $(awk "/MemTotal/ { print \$4 }" $n/meminfo)"; done')
expect_eq "guest: nodes 0 and 1" "node0 node1" "$(printf '%s\n' "$nodes" | awk '{ print $1 }' | xargs)"
expect_eq "guest: node 0 has cpu 0, node 1 has cpu 1" "0 1" \
	"$(printf '%s\n' "$nodes" | awk '{ print $2 }' | xargs)"
# The guest kernel keeps some of each node's memory (its image and early
# allocations, mostly on one node): allow 64 MiB per node.
for n in 0 1; do
	kib=$(printf '%s\n' "$nodes" | awk -v n="node$n" '$1 == n { print $3 }')
	if [ -n "$kib" ] && [ "$kib" -le "$cell_kib" ] && [ "$kib" -gt $((cell_kib - 65536)) ]; then
		pass "guest: node $n has its half of the memory ($kib of $cell_kib KiB)"
	else
		fail "guest: node $n has its half of the memory" "MemTotal ${kib:-?} KiB, cell $cell_kib KiB"
	fi
done
pins=$(virsh -c qemu:///system vcpupin hyperion-$node-301 | awk '$1 ~ /^[0-9]+$/ { printf "%s->%s ", $1, $2 }')
expect_eq "host: vCPU 0 pinned to cpu 0, vCPU 1 to cpu 1" "0->0 1->1 " "$pins"
expect_match "host: emulator pinned to cpus 0-1" '\*: +0-1$' \
	"$(virsh -c qemu:///system emulatorpin hyperion-$node-301)"
check "stop the two-cell guest" ctl nobind stop --job 301
check "... and nothing is left" nothing_left 301

echo "== 2 MiB hugepages"
# 320 MB allocated - 64 MB VMM reserve = 256 MiB of guest: 128 pages.
hp_alloc=(--user "$user" --cpus 0-1 --memory 320 --image default --hugepages 2M)
if reserve 300; then pass "reserve 300 free 2 MiB pages"; else fail "reserve 300 free 2 MiB pages" "HugePages_Free $(hp Free)"; fi
free0=$(hp Free)
rsvd0=$(hp Rsvd)
check "start a guest on 2M hugepages (numa_bind = yes)" ctl bind start --job 302 "${hp_alloc[@]}"
expect_eq "while it runs, its 128 pages are taken" $((free0 - 128)) "$(hp Free)"
expect_eq "the guest answers" ok "$(hx 302 -- echo ok)"
expect_match "the domain is backed by hugepages" "<hugepages>" \
	"$(virsh -c qemu:///system dumpxml hyperion-$node-302)"
check "stop it" ctl bind stop --job 302
expect_eq "after stop, every page is free again" "$free0" "$(hp Free)"
expect_eq "... and none is left reserved" "$rsvd0" "$(hp Rsvd)"
check "... and nothing else is left" nothing_left 302

# Two cells on host nodes 0 and 1 of the synthetic machine, unbound: the
# pages come from wherever the host has them, checked machine-wide.
check "start the two-cell guest on 2M hugepages (numa_bind = no)" \
	ctl nobind start --job 303 "${alloc[@]}" --hugepages 2M
expect_eq "while it runs, its 256 pages are taken" $((free0 - 256)) "$(hp Free)"
check "stop it" ctl nobind stop --job 303
expect_eq "after stop, every page is free again" "$free0" "$(hp Free)"

if reserve 100; then pass "reserve only 100 free pages"; else fail "reserve only 100 free pages" "HugePages_Free $(hp Free)"; fi
free1=$(hp Free)
out=$(ctl bind start --job 304 "${hp_alloc[@]}" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then pass "too few pages: start fails"; else fail "too few pages: start fails" "$out"; fi
expect_match "... with the numbers per node" \
	"not enough 2M hugepages: need 128 on node 0 \(free $free1\)" "$out"
expect_match "... and how to reserve more" "node<N>/hugepages/hugepages-2048kB/nr_hugepages" "$out"
check "... and leaves nothing" nothing_left 304
expect_eq "... and no page taken" "$free1" "$(hp Free)"
expect_eq "... or reserved" "$rsvd0" "$(hp Rsvd)"
out=$(ctl nobind start --job 304 "${alloc[@]}" --hugepages 2M 2>&1)
expect_match "unbound two-cell guest, too few pages: the machine's numbers" \
	"not enough 2M hugepages: need 256 \(free $free1\).*vm.nr_hugepages" "$out"
check "... and leaves nothing" nothing_left 304

summary
