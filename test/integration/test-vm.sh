#!/bin/bash
# The core against a real libvirtd and real TCG guests, as non-root users:
# hyperionctl start/exec/stop/list/reap/xml and hyperion-exec.
#
# usage: test-vm.sh BUILD_DIR APPLIANCE_DIR DISK_IMAGE
# Needs root, a running libvirtd (scripts/libvirt-up) and a built appliance.
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

tmp=$(mktemp -d /tmp/hyperion-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-it
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d"
cat >"$conf" <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 60
images = $tmp/images.d
CONF

# A broken initramfs: a cpio archive without /init; the kernel panics.
(cd "$tmp" && mkdir -p broken/etc && echo x >broken/etc/x &&
	(cd broken && find . | cpio -o -H newc 2>/dev/null | gzip) >broken.img)
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
description = the default appliance

[image nokernel]
kind = appliance
kernel = $tmp/no-such-vmlinuz
initrd = $appliance/initrd.img

[image broken]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $tmp/broken.img

# A kernel whose init never starts the agent: it sleeps.
[image stuck]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
cmdline = rdinit=/bin/sleep 600 loglevel=7

[image disk]
kind = disk
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
disk = $disk
format = qcow2
CONF

cleanup() {
	for j in 101 102 103 104 105 106 107 108 109 110; do "$ctl" -c "$conf" stop --job "$j" >/dev/null 2>&1; done
	for n in it-node-a it-node-b; do "$ctl" -c "$conf" stop --node "$n" --job 107 >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT

hctl() { "$ctl" -c "$conf" "$@"; }
# as_user USER ARGS...: hyperion-exec as a non-root user for job 101.
as_user() { local u=$1; shift; runuser -u "$u" -- "$exec_tool" --config "$conf" --job 101 "$@"; }
hx() { as_user "$user1" "$@"; }
domain_exists() { virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null; }
# nothing_left JOB [NODE]: no domain, no state directory, no lock, no resource list.
nothing_left() {
	local n=${2:-$node}
	! virsh -c qemu:///system list --all --name | grep -x "hyperion-$n-$1" >/dev/null &&
		[ ! -e "$state/$n/job.$1" ] && [ ! -e "$state/$n/job.$1.lock" ] &&
		[ ! -e "$state/$n/job.$1.res" ]
}

echo "== xml"
xml=$(hctl xml --job 100 --user "$user1" --cpus 0-1 --memory 512 --image default)
printf '%s\n' "$xml" >"$tmp/domain.xml"
check "xml validates against libvirt's schema" virt-xml-validate "$tmp/domain.xml" domain
expect_match "xml pins vCPU 1 to cpu 1" "<vcpupin vcpu=\"1\" cpuset=\"1\"" "$xml"

echo "== start"
t0=$(date +%s.%N)
out=$(hctl start --job 101 --user "$user1" --cpus 0-1 --memory 512 --image default 2>&1)
rc=$?
t1=$(date +%s.%N)
expect_eq "start succeeds" 0 "$rc"
echo "     ($out; $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)"
out=$(hctl start --job 101 --user "$user1" --cpus 0-1 --memory 512 --image default 2>&1)
expect_match "a second start for the same job and user finds its VM running" "already running" "$out"
expect_match "list shows the job, its node and its user" "^101 +$node +$user1 +running" "$(hctl list)"
expect_match "... and how long its guest took to boot" "^101 .* [0-9]+\.[0-9]{2}s " "$(hctl list)"
expect_match "start says it too" "ready in [0-9]+\.[0-9]+ s" "$(hctl start --job 101 --node boot-t --user "$user1" --cpus 1 --memory 256 --image default; hctl stop --node boot-t --job 101 >/dev/null)"
sock_owner=$(stat -c '%U %a' "$state/$node/job.101/exec.0.sock")
expect_eq "exec sockets belong to the job user, mode 0600" "$user1 600" "$sock_owner"

echo "== identity, kernel, cwd, environment"
expect_eq "uid in the guest" "$(id -u $user1)" "$(hx -- id -u)"
expect_eq "gid in the guest" "$(id -g $user1)" "$(hx -- id -g)"
expect_eq "guest runs the appliance kernel" "$(cat "$appliance/kernel-release")" "$(hx -- uname -r)"
expect_eq "cwd as asked" "/tmp" "$(hx -C /tmp -- pwd)"
out=$(hx -i -e A=1 -e 'B=two words' -- env | sort)
expect_eq "exactly the environment asked for (and the agent's HYPERION_SESSION)" "A=1 B=two words" \
	"$(grep -v '^HYPERION_SESSION=' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
expect_match "... HYPERION_SESSION names the session's socket, for the guest's Slurm commands" \
	"^HYPERION_SESSION=/.*/hyperion-session\.[0-9]+\.sock$" "$(grep '^HYPERION_SESSION=' <<<"$out")"

echo "== stdio"
head -c 100M /dev/urandom >"$tmp/in"
chmod 644 "$tmp/in"
want=$(sha256sum <"$tmp/in" | cut -d' ' -f1)
got=$(hx -- cat <"$tmp/in" | sha256sum | cut -d' ' -f1)
expect_eq "100 MB through stdin come back with the same checksum" "$want" "$got"
out=$(hx -- sh -c 'echo to-out; echo to-err >&2' 2>"$tmp/err")
expect_eq "stdout stays stdout" "to-out" "$out"
expect_eq "stderr stays stderr" "to-err" "$(cat "$tmp/err")"

echo "== exit status and signals"
for code in 0 1 42; do
	hx -- sh -c "exit $code" </dev/null
	expect_eq "exit status $code comes back" "$code" "$?"
done
hx -- sh -c 'kill -KILL $$' </dev/null
expect_eq "killed by SIGKILL in the guest: hyperion-exec dies of SIGKILL" 137 "$?"
# setpriv execs (runuser would fork): $! is hyperion-exec itself.
setpriv --reuid="$user1" --regid="$user1" --init-groups \
	"$exec_tool" --config "$conf" --job 101 -- sleep 1000 </dev/null &
pid=$!
sleep 3
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "SIGTERM ends 'sleep 1000' in the guest; hyperion-exec dies of SIGTERM" 143 "$rc"
if [ "$ms" -lt 1000 ]; then pass "... within a second (${ms} ms)"; else fail "... within a second" "${ms} ms"; fi
expect_eq "no sleep left in the guest" 0 "$(hx -- sh -c 'ps | grep -c "[s]leep 1000"')"

echo "== concurrency and ownership"
nports=$(ls "$state/$node/job.101/" | grep -c '^exec\..*\.sock$')
pids=()
for i in $(seq 1 "$nports"); do
	hx -- sh -c "sleep 2; echo session-$i" >"$tmp/conc.$i" </dev/null &
	pids+=($!)
done
ok=0
for i in $(seq 1 "$nports"); do
	wait "${pids[$((i - 1))]}" && [ "$(cat "$tmp/conc.$i")" = "session-$i" ] && ok=$((ok + 1))
done
expect_eq "$nports concurrent sessions (one per exec port) all succeed" "$nports" "$ok"
out=$(as_user "$user2" -- true 2>&1)
rc=$?
expect_match "another user is refused with a clear message" "ermission denied" "$out"
[ "$rc" -ne 0 ] && pass "... and a non-zero exit" || fail "... and a non-zero exit"

echo "== stop"
check "stop succeeds" hctl stop --job 101
check "stop leaves no domain, state directory, socket or lock" nothing_left 101
check "stop again succeeds" hctl stop --job 101

echo "== disk image with a per-job overlay"
base_sum=$(sha256sum <"$disk")
check "start from a disk image" hctl start --job 102 --user "$user1" --cpus 0 --memory 384 --image disk
check "the overlay is in the job's state directory" test -f "$state/$node/job.102/overlay.qcow2"
hx102() { runuser -u "$user1" -- "$exec_tool" --config "$conf" --job 102 "$@"; }
expect_match "the guest's root is the disk" "^/dev/vda / " "$(hx102 -- cat /proc/mounts </dev/null)"
hx102 -- sh -c 'echo scribble >/written-by-job; sync' </dev/null
check "stop the disk VM" hctl stop --job 102
expect_eq "the base image was never written" "$base_sum" "$(sha256sum <"$disk")"
check "stop removes the overlay" nothing_left 102

echo "== reap"
hctl start --no-wait --job 103 --user "$user1" --cpus 0 --memory 256 --image default >/dev/null
out=$(hctl reap 103)
expect_match "reap destroys a dead job's VM" "released domain hyperion-$node-103" "$out"
expect_match "... and says how many jobs" "reaped 1 job" "$out"
check "reap leaves nothing" nothing_left 103
hctl start --no-wait --job 109 --user "$user1" --cpus 0 --memory 256 --image default >/dev/null
out=$(hctl reap --keep "" 2>&1)
rc=$?
expect_match "reap with an empty keep list refuses" "keep list is empty.*--all" "$out"
[ "$rc" -ne 0 ] && domain_exists 109 && pass "... and destroys nothing" || fail "... and destroys nothing"
out=$(hctl reap --keep 999999)
expect_match "reap --keep spares a VM younger than the keep list's snapshot" "reaped 0 job" "$out"
check "... which still runs" domain_exists 109
out=$(hctl reap --local)
expect_match "reap --local: no slurmstepd runs job 109 here, so it is released" \
	"released domain hyperion-$node-109" "$out"
check "... leaving nothing" nothing_left 109

echo "== several nodes on one host"
hctl start --node it-node-a --job 107 --user "$user1" --cpus 0 --memory 256 --image default >/dev/null
hctl start --node it-node-b --job 107 --user "$user1" --cpus 1 --memory 256 --image default >/dev/null
list=$(hctl list)
expect_match "the same job id boots on two nodes of one host" "107 +it-node-a .*running" "$list"
expect_match "... (the second)" "107 +it-node-b .*running" "$list"
expect_eq "... each its own VM" "hi" \
	"$(runuser -u "$user1" -- "$exec_tool" --config "$conf" --node it-node-b --job 107 -- echo hi </dev/null)"
check "stop on one node" hctl stop --node it-node-a --job 107
check "... leaves nothing of it" nothing_left 107 it-node-a
check "... and the other still runs" virsh -c qemu:///system domstate hyperion-it-node-b-107
hctl stop --node it-node-b --job 107 >/dev/null
check "... until it is stopped too" nothing_left 107 it-node-b
out=$(hctl start --node 'bad/node' --job 107 --user "$user1" --cpus 0 --memory 256 --image default 2>&1)
expect_match "a bad node name is refused, naming what is allowed" "not allowed \(letters, digits" "$out"

echo "== a VM found under the job's name is reused only if it is the job's"
hctl start --no-wait --job 108 --user "$user1" --cpus 0 --memory 256 --image default >/dev/null
out=$(hctl start --no-wait --job 108 --user "$user2" --cpus 0 --memory 256 --image default 2>&1)
expect_match "another user's VM under the same job id is not reused" "VM hyperion-$node-108 started" "$out"
expect_eq "... the new one's sockets are the new owner's" "$user2" \
	"$(stat -c %U "$state/$node/job.108/exec.0.sock")"
hctl stop --job 108 >/dev/null
hctl start --no-wait --job 110 --user "$user1" --cpus 0 --memory 256 --image default >/dev/null
# A start killed after QEMU started but before the sockets were handed over.
sed -i '/^ready /d' "$state/$node/job.110.res"
chown root:root "$state/$node/job.110/"*.sock
out=$(hctl start --no-wait --job 110 --user "$user1" --cpus 0 --memory 256 --image default 2>&1)
expect_match "a start that never completed is not reused" "VM hyperion-$node-110 started" "$out"
expect_eq "... the sockets are the user's again" "$user1" "$(stat -c %U "$state/$node/job.110/exec.0.sock")"
check "... and the resource list says it is complete" grep -qx 'ready -' "$state/$node/job.110.res"
hctl stop --job 110 >/dev/null
check "... stop releases everything in its list" nothing_left 110

echo "== hyperionctl check"
out=$(hctl check 2>&1)
rc=$?
expect_match "check names a broken image and the problem" "warn image nokernel: .*no-such-vmlinuz" "$out"
expect_eq "... which fails only that image's jobs: the node is ready" 0 "$rc"
expect_match "... one line per check: libvirt" "^ok +libvirt: libvirtd answers" "$out"
expect_match "... TCG" "^ok +kvm: domain_type = qemu" "$out"
sed 's|^images = .*|images = /nonexistent-catalog|' "$conf" >"$tmp/nocat.conf"
out=$("$ctl" -c "$tmp/nocat.conf" check 2>&1)
expect_eq "without a usable image the node is not ready" 1 "$?"
expect_eq "... and advertises no feature" "" "$("$ctl" -c "$tmp/nocat.conf" check --features)"
mkdir -p "$tmp/good.d"
sed -n '/^\[image default\]/,/^$/p' "$tmp/images.d/test.conf" >"$tmp/good.d/test.conf"
sed "s|^images = .*|images = $tmp/good.d|" "$conf" >"$tmp/good.conf"
check "with only good images, check passes" "$ctl" -c "$tmp/good.conf" check
expect_eq "... and advertises hyperion on TCG" "hyperion,hyperion_tcg" \
	"$("$ctl" -c "$tmp/good.conf" check --features)"

echo "== errors leave nothing behind"
out=$(hctl start --job 104 --user "$user1" --cpus 0 --memory 256 --image nope 2>&1)
expect_match "unknown image: names the valid ones" "unknown image 'nope'.*default" "$out"
check "... and leaves nothing" nothing_left 104
out=$(hctl start --job 105 --user "$user1" --cpus 0 --memory 256 --image nokernel 2>&1)
expect_match "missing kernel: names the file" "no-such-vmlinuz" "$out"
check "... and leaves nothing" nothing_left 105
out=$(hctl start --job 106 --user "$user1" --cpus 0 --memory 256 --image broken 2>&1)
rc=$?
[ "$rc" -ne 0 ] && pass "broken initramfs: start fails" || fail "broken initramfs: start fails" "$out"
expect_match "... with a clear error" "guest stopped before its agent came up" "$out"
expect_match "... and the console's last lines" "Kernel panic" "$out"
check "... and leaves nothing" nothing_left 106
hctl start --job 106 --no-wait --user "$user1" --cpus 0 --memory 256 --image stuck >/dev/null
out=$(runuser -u "$user1" -- "$exec_tool" --config "$conf" --job 106 --timeout 10 -- true 2>&1 </dev/null)
rc=$?
expect_match "a guest that never answers: hyperion-exec says so" "did not answer within 10 s" "$out"
expect_match "... with the console's last lines" "Run /bin/sleep as init" "$out"
[ "$rc" -ne 0 ] && pass "... and fails" || fail "... and fails"
hctl stop --job 106 >/dev/null
check "... and stop leaves nothing" nothing_left 106

summary
