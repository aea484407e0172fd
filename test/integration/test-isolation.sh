#!/bin/bash
# Isolation between jobs on a real libvirtd with TCG guests: each job's QEMU
# runs as the job's user; another user reaches neither its memory, its
# overlay nor its sockets; libvirt re-owns no catalog file; a catalog file
# that users can change is refused.
#
# usage: test-isolation.sh BUILD_DIR APPLIANCE_DIR DISK_IMAGE
# Needs root, a running libvirtd (scripts/libvirt-up) and a built appliance.
# Uses job ids 7000-7099 and its own state directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
node=$(hostname -s)

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
disk=${3:?disk image}
ctl="$build/tools/ctl/hyperionctl"
exec_tool="$build/tools/exec/hyperion-exec"
user1=hyptest1
user2=hyptest2
ensure_user "$user1"
ensure_user "$user2"
jobs=(7010 7011 7012 7013)

tmp=$(mktemp -d /tmp/hyperion-iso-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-iso-it
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d" "$tmp/open"
chmod 0777 "$tmp/open"
cp "$appliance/vmlinuz" "$tmp/vmlinuz-ww"
chmod 0666 "$tmp/vmlinuz-ww"
cp "$appliance/vmlinuz" "$tmp/open/vmlinuz"
chmod 0644 "$tmp/open/vmlinuz"
cat >"$conf" <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 60
images = $tmp/images.d
CONF
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img

[image disk]
kind = disk
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
disk = $disk
format = qcow2

[image writable-kernel]
kind = appliance
kernel = $tmp/vmlinuz-ww
initrd = $appliance/initrd.img

[image writable-dir]
kind = appliance
kernel = $tmp/open/vmlinuz
initrd = $appliance/initrd.img
CONF

cleanup() {
	for j in "${jobs[@]}"; do "$ctl" -c "$conf" stop --job "$j" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT

hctl() { "$ctl" -c "$conf" "$@"; }
qemu_pid() { pgrep -f "guest=hyperion-$node-$1," | head -n 1; }
owner_mode() { stat -L -c '%U:%G %a' "$1"; }
# proc_user PID: "user" of a process, empty if none.
proc_user() { [ -n "$1" ] && ps -o user= -p "$1" | xargs; }
# connect_as USER SOCKET: connect(2) to a unix socket as USER.
connect_as() {
	runuser -u "$1" -- /usr/bin/python3 -c \
		'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$2" 2>&1
}

echo "== preconditions"
if ! runuser -u "$user1" -- test -x /var/lib/libvirt/qemu; then
	fail "job users can traverse /var/lib/libvirt/qemu" \
		"QEMU reads its master key there as the job user: chmod o+x /var/lib/libvirt/qemu" \
		"(scripts/libvirt-up does it; see doc/admin-guide.md)"
fi
files=("$appliance/vmlinuz" "$appliance/initrd.img" "$disk")
before=$(for f in "${files[@]}"; do owner_mode "$f"; done)

echo "== an appliance VM runs as its job's user"
check "start an appliance VM for $user1" \
	hctl start --job 7010 --user "$user1" --cpus 0 --memory 256 --image default
pid=$(qemu_pid 7010)
if [ -n "$pid" ]; then
	expect_eq "its QEMU runs as $user1" "$user1 $user1" "$(ps -o user=,group= -p "$pid" | xargs)"
	expect_eq "... with $user1's groups only" "$(id -G "$user1" | tr ' ' '\n' | sort -n | xargs)" \
		"$(sed -n 's/^Groups:\s*//p' "/proc/$pid/status" | tr ' ' '\n' | sort -n | xargs)"
	check "$user2 cannot read its memory (/proc/PID/mem)" \
		bash -c "! runuser -u $user2 -- head -c 1 /proc/$pid/mem >/dev/null 2>&1"
	check "$user2 cannot list its open files" \
		bash -c "! runuser -u $user2 -- ls /proc/$pid/fd >/dev/null 2>&1"
else
	fail "its QEMU process is found" "no process for guest=hyperion-$node-7010"
fi
ddirs=(/var/lib/libvirt/qemu/domain-*-hyperion-$node-7010)
ddir=${ddirs[0]}
expect_eq "libvirt's directory for the domain is $user1's" "$user1:$user1 750" \
	"$(owner_mode "$ddir" 2>&1)"
check "$user2 cannot read its master key" \
	bash -c "! runuser -u $user2 -- cat '$ddir/master-key.aes' >/dev/null 2>&1"
expect_eq "the guest works: hyperion-exec as $user1" "$(id -u "$user1")" \
	"$(runuser -u "$user1" -- "$exec_tool" --config "$conf" --job 7010 -- id -u </dev/null)"
for s in ctl.sock exec.0.sock; do
	out=$(connect_as "$user2" "$state/$node/job.7010/$s")
	expect_match "$user2 cannot connect to $s" "Permission denied" "$out"
done
out=$(connect_as "$user1" "$state/$node/job.7010/exec.0.sock")
expect_eq "... while $user1 can" "" "$out"

echo "== disk VMs of two users: each overlay is its user's alone"
check "start a disk VM for $user1" \
	hctl start --job 7011 --user "$user1" --cpus 0 --memory 256 --image disk
check "start a disk VM for $user2" \
	hctl start --job 7012 --user "$user2" --cpus 0 --memory 256 --image disk
for j in 7011 7012; do
	u=$user1 other=$user2
	[ "$j" = 7012 ] && u=$user2 other=$user1
	ov="$state/$node/job.$j/overlay.qcow2"
	expect_eq "job $j's overlay is $u's, mode 0600" "$u:$u 600" "$(owner_mode "$ov" 2>&1)"
	check "$other cannot read job $j's overlay" \
		bash -c "test -f '$ov' && ! runuser -u $other -- head -c 1 '$ov' >/dev/null 2>&1"
	pid=$(qemu_pid "$j")
	expect_eq "job $j's QEMU runs as $u" "$u" "$(proc_user "$pid")"
done
expect_eq "the guest writes to its own overlay" "ok" \
	"$(runuser -u "$user1" -- "$exec_tool" --config "$conf" --job 7011 -- \
		sh -c 'echo x >/tmp/w && sync && echo ok' </dev/null 2>&1)"
for j in 7010 7011 7012; do hctl stop --job "$j" >/dev/null 2>&1; done
after=$(for f in "${files[@]}"; do owner_mode "$f"; done)
expect_eq "kernel, initrd and base image keep their owner and mode" "$before" "$after"

echo "== catalog files that users can change are refused"
out=$(hctl start --job 7013 --user "$user1" --cpus 0 --memory 256 --image writable-kernel 2>&1)
expect_match "a world-writable kernel is refused, naming it" \
	"kernel '$tmp/vmlinuz-ww' refused: file '$tmp/vmlinuz-ww' is world-writable" "$out"
out=$(hctl start --job 7013 --user "$user1" --cpus 0 --memory 256 --image writable-dir 2>&1)
expect_match "a kernel in a world-writable directory is refused, naming the directory" \
	"refused: directory '$tmp/open' is world-writable" "$out"
check "no VM was left for the refused image" \
	bash -c "! virsh -c qemu:///system list --all --name | grep -x hyperion-$node-7013 >/dev/null"

summary
