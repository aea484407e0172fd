#!/bin/bash
# Hyperion under a real single-node OpenPBS (scripts/pbs-up), as the
# unprivileged user hyptest1, against real TCG guests: a VM job's script
# runs in the guest (appliance kernel, the user's uid, output where PBS puts
# it), its exit status is the job's, qdel of a running VM job and ten VM jobs
# in a row leave no domain, state or helper process, an unknown vm_image is
# refused by qsub with the list of images and nothing queued, and a job
# without vm_image runs on the host as before.
#
# usage: test-pbs.sh BUILD_DIR APPLIANCE_DIR
# Needs root, libvirtd (scripts/libvirt-up) and the appliance; builds and
# starts OpenPBS through scripts/pbs-up (stopped again at the end if it
# started it). Reported as skipped, never passed, when there is neither an
# installed OpenPBS nor the vendor archive.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
helper=$build/plugin/pbs/hyperion-pbs
skip() { echo "SKIP test-pbs: $*"; summary; exit 0; }
# wait_until SECONDS CMD...: run CMD every 0.5 s until it succeeds; 1 on timeout.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
virsh -c qemu:///system list >/dev/null 2>&1 || skip "libvirtd is not running (scripts/libvirt-up)"
[ -f "$appliance/vmlinuz" ] || skip "no appliance in $appliance"
[ -x "$helper" ] || skip "no $helper (build first)"

user=hyptest1
ensure_user "$user"
node=${PBS_TEST_HOST:-hyppbs}
state=/run/hyperion-pbs-it
tmp=/tmp/hyperion-pbs-it
rm -rf "$tmp"
mkdir -p "$tmp/images.d"
chmod 755 "$tmp"
conf=$tmp/hyperion.conf
cat >"$conf" <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 120
images = $tmp/images.d
CONF
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img

[image broken]
kind = appliance
kernel = $tmp/no-such-kernel
initrd = $appliance/initrd.img
CONF
printf '{"helper": "%s", "config": "%s", "exec": "%s"}\n' "$helper" "$conf" \
	"$build/tools/exec/hyperion-exec" >"$tmp/hook.json"

rc=0
out=$("$top/scripts/pbs-up" --hook-config "$tmp/hook.json" 2>&1) || rc=$?
[ "$rc" -ne 2 ] || skip "no OpenPBS: $(printf '%s' "$out" | tail -n1)"
if [ "$rc" -ne 0 ]; then
	fail "scripts/pbs-up" "$out"
	summary
	exit 1
fi
pass "scripts/pbs-up: OpenPBS running on $node with the hook"
export PATH=/opt/pbs/bin:$PATH
sleep 3 # the server sends the hook to the mom

home=$(getent passwd "$user" | cut -d: -f6)
work=$home/pbs-it
rm -rf "$work"
su "$user" -c "mkdir -p '$work'"

cleanup() {
	local j
	for j in $(qselect -u "$user" 2>/dev/null); do qdel -W force "$j" >/dev/null 2>&1; done
	for j in $(ls "$state/$node" 2>/dev/null | sed -n 's/^job\.\([0-9]*\)$/\1/p'); do
		"$helper" --config "$conf" stop --job "$((j - 1))" --node "$node" >/dev/null 2>&1
	done
	"$top/scripts/pbs-down" >/dev/null 2>&1
	# a VM whose start was under way when its job was deleted
	wait_until 120 sh -c "! pgrep -f 'hyperion-pbs.* start ' >/dev/null"
	for j in $(virsh -c qemu:///system list --all --name | sed -n "s/^hyperion-$node-//p"); do
		"$helper" --config "$conf" stop --job "$((j - 1))" --node "$node" >/dev/null 2>&1
	done
	rm -rf "$tmp" "$work"
}
trap cleanup EXIT

# as_user CMD: run CMD as the test user in the work directory.
as_user() { su "$user" -c "export PATH=/opt/pbs/bin:\$PATH; cd '$work' && $1"; }
# attr JOB NAME: one attribute of a (finished) job.
attr() { qstat -fx "$1" 2>/dev/null | sed -n "s/^ *$2 = //p"; }
finished() { [ "$(attr "$1" job_state)" = F ]; }
hyp_id() { "$helper" job-id "$1"; }
# left JOB: what the job's VM left behind, empty when nothing.
left() {
	local id
	id=$(hyp_id "$1")
	virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$id"
	ls -d "$state/$node/job.$id" "$state/$node/job.$id".* 2>/dev/null
	pgrep -af "hyperion-(exec|pbs).* --job ($id|$1) " | grep -v pgrep
	pgrep -af "qemu.*hyperion-$node-${id}[^0-9]"
}

kernel=$(cat "$appliance/kernel-release")
uid=$(id -u "$user")

# 1. A VM job: the script in the guest, output where PBS puts it, exit 3.
cat >"$work/job.sh" <<'SH'
#!/bin/sh
uname -r
id -u
exit 3
SH
chown "$user" "$work/job.sh"
job=$(as_user "qsub -l select=1:ncpus=1:mem=512mb -l vm_image=default job.sh" 2>&1)
expect_match "qsub of a VM job" '^[0-9]+\.' "$job"
wait_until 300 finished "$job" || fail "VM job $job finished" "$(qstat -fx "$job")"
seq=${job%%.*}
outf=$work/job.sh.o$seq
check "output file where PBS puts it ($outf)" test -s "$outf"
expect_eq "uname -r in the job is the appliance's kernel" "$kernel" "$(sed -n 1p "$outf" 2>/dev/null)"
expect_eq "the job runs as the user's uid" "$uid" "$(sed -n 2p "$outf" 2>/dev/null)"
expect_eq "exit 3 is Exit_status = 3 in qstat -fx" 3 "$(attr "$job" Exit_status)"
nothing_left() { [ -z "$(left "$1")" ]; }
wait_until 30 nothing_left "$job"
check "the VM job left nothing" test -z "$(left "$job")"

# 2. qdel of a running VM job.
cat >"$work/sleep.sh" <<'SH'
#!/bin/sh
echo started
sleep 600
SH
chown "$user" "$work/sleep.sh"
job=$(as_user "qsub -l select=1:ncpus=1:mem=512mb -l vm_image=default sleep.sh" 2>&1)
id=$(hyp_id "$job")
running_in_vm() {
	[ "$(attr "$job" job_state)" = R ] &&
		virsh -c qemu:///system domstate "hyperion-$node-$id" 2>/dev/null | grep -q running &&
		pgrep -f "hyperion-exec --job $id " >/dev/null
}
if wait_until 300 running_in_vm; then
	pass "job $job runs in its VM (domain hyperion-$node-$id, hyperion-exec)"
	as_user "qdel $job"
	wait_until 120 finished "$job"
	wait_until 30 nothing_left "$job"
	check "qdel of a running VM job leaves no domain, state or helper process" \
		test -z "$(left "$job")"
else
	fail "job $job runs in its VM" "$(qstat -fx "$job" | grep -E 'state|comment')"
fi

# 3. An unknown image: refused by qsub with the list, nothing queued.
before=$(qstat -x 2>/dev/null | grep -c "^[0-9]")
out=$(as_user "qsub -l select=1:ncpus=1:mem=512mb -l vm_image=nope job.sh" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && pass "qsub -l vm_image=nope fails (exit $rc)" ||
	fail "qsub -l vm_image=nope fails" "$out"
expect_match "the refusal lists the images" "unknown image 'nope' \(available: default, broken\)" "$out"
expect_eq "nothing was queued" "$before" "$(qstat -x 2>/dev/null | grep -c "^[0-9]")"

out=$(as_user "qsub -l ncpus=1 -l mem=512mb -l vm_image=default job.sh" 2>&1)
expect_match "a VM job without its size in -l select is refused by qsub" \
	"give.* mem= in every chunk" "$out"

# A VM that cannot start fails its job (no requeue, no hold), not the node.
job=$(as_user "qsub -l select=1:ncpus=1:mem=512mb -l vm_image=broken job.sh" 2>&1)
wait_until 120 finished "$job"
expect_eq "a VM that cannot start ends its job (run_count)" "F 1" \
	"$(attr "$job" job_state) $(attr "$job" run_count)"
expect_match "the node stays up" "state = free" "$(pbsnodes "$node")"
check "the failed start left nothing" test -z "$(left "$job")"

# 4. A job without vm_image runs on the host as before.
job=$(as_user "qsub -l select=1:ncpus=1:mem=256mb job.sh" 2>&1)
wait_until 120 finished "$job" || fail "host job $job finished"
expect_eq "a job without vm_image runs on the host (its kernel)" "$(uname -r)" \
	"$(sed -n 1p "$work/job.sh.o${job%%.*}" 2>/dev/null)"
expect_eq "the host job's exit status" 3 "$(attr "$job" Exit_status)"
check "the host job had no VM" test -z "$(left "$job")"

# 5. Ten VM jobs in a row leave nothing behind.
cat >"$work/ok.sh" <<'SH'
#!/bin/sh
uname -r
SH
chown "$user" "$work/ok.sh"
jobs=()
for _ in $(seq 10); do
	jobs+=("$(as_user "qsub -l select=1:ncpus=1:mem=512mb -l vm_image=default ok.sh" 2>&1)")
done
good=0
for j in "${jobs[@]}"; do
	wait_until 600 finished "$j" || continue
	[ "$(attr "$j" Exit_status)" = 0 ] &&
		[ "$(cat "$work/ok.sh.o${j%%.*}" 2>/dev/null)" = "$kernel" ] && good=$((good + 1))
done
expect_eq "10 VM jobs in a row ran in their guests" 10 "$good"
leftovers=""
for j in "${jobs[@]}"; do
	wait_until 30 nothing_left "$j"
	leftovers+=$(left "$j")
done
check "10 VM jobs left no domain, state or helper process" test -z "$leftovers"
check "no Hyperion domain of node $node remains" \
	test -z "$(virsh -c qemu:///system list --all --name | grep "^hyperion-$node-")"

summary
