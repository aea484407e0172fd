#!/bin/bash
# A libvirtd restart under a starting or stopping VM is not a node fault:
# hyperionctl start/stop (the same hyp_job_start/stop the plugin calls) ride
# it out on a new connection, and only a libvirtd that stays away fails them
# as "connecting to libvirt" (what drains a Slurm node).
#
# Runs its own virtlogd and libvirtd in a private mount namespace (tmpfs over
# /run/libvirt, /var/lib/libvirt/qemu, /var/cache/libvirt, /var/log/libvirt),
# so the machine's libvirtd and its guests are not disturbed.
#
# usage: test-libvirtd-restart.sh BUILD_DIR APPLIANCE_DIR
# Needs root and a built appliance. Uses job ids 7500-7509.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}

if [ -z "${HYP_PRIVATE_LIBVIRT:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; echo "0 passed, 0 failed"; exit 0; }
	HYP_PRIVATE_LIBVIRT=1 exec unshare --mount --propagation private "$0" "$@"
fi

user=hyptest1
ensure_user "$user"
ctl_bin="$build/tools/ctl/hyperionctl"
tmp=$(mktemp -d /tmp/hyperion-lvrestart.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-lvrestart-it
conf="$tmp/hyperion.conf"
test_config "$tmp" "$state" "$appliance"

for d in /run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt /var/log/libvirt; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" ||
		{ fail "private $d"; summary; exit 1; }
done
chmod 0751 /var/lib/libvirt/qemu # each job's QEMU (its user) reaches its own dir
export LIBVIRT_LOG_OUTPUTS="3:stderr"
uri=qemu:///system
ctl() { "$ctl_bin" -c "$conf" "$@"; }
domains() { virsh -c "$uri" list --all --name 2>/dev/null | grep -c '^hyperion-'; }
answers() { virsh -c "$uri" version >/dev/null 2>&1; }
libvirtd_up() {
	setsid -f tini -s -- libvirtd -p /run/libvirt/libvirtd.pid </dev/null \
		>>"$tmp/libvirtd.log" 2>&1
	local t=300
	until answers; do t=$((t - 1)); [ "$t" -gt 0 ] || return 1; sleep 0.1; done
}
libvirtd_down() {
	local pid
	pid=$(cat /run/libvirt/libvirtd.pid 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
cleanup() {
	if answers; then
		for d in $(virsh -c "$uri" list --all --name | grep '^hyperion-'); do
			virsh -c "$uri" destroy "$d" >/dev/null 2>&1
		done
	fi
	libvirtd_down
	kill -TERM "$(cat /run/libvirt/virtlogd.pid 2>/dev/null)" 2>/dev/null
	rm -rf "$tmp" "$state"
}
trap cleanup EXIT

setsid -f virtlogd -p /run/libvirt/virtlogd.pid </dev/null >"$tmp/virtlogd.log" 2>&1
libvirtd_up || { fail "private libvirtd answers" "$(tail -5 "$tmp/libvirtd.log")"; summary; exit 1; }
pass "private libvirtd answers"

# A restart at different moments of a start: connecting, defining, booting.
job=7500
for delay in 0.2 1.0 1.8; do
	ctl start --job $job --user "$user" --cpus 0 --memory 256 --image default \
		>"$tmp/start.$job" 2>&1 &
	starter=$!
	sleep "$delay"
	libvirtd_down
	libvirtd_up
	wait "$starter"
	rc=$?
	expect_eq "start rides out a libvirtd restart after ${delay} s (job $job)" 0 "$rc"
	[ "$rc" -eq 0 ] || cat "$tmp/start.$job"
	expect_eq "the guest answers after the restart (job $job)" vm \
		"$(ctl exec --job $job -- uname -n 2>&1)"
	check "stop after the restart (job $job)" ctl stop --job $job
	job=$((job + 1))
done

# A stop while libvirtd is away for a second.
ctl start --job $job --user "$user" --cpus 0 --memory 256 --image default >/dev/null 2>&1 ||
	fail "start job $job"
libvirtd_down
ctl stop --job $job >"$tmp/stop" 2>&1 &
stopper=$!
sleep 1
libvirtd_up
wait "$stopper"
expect_eq "stop rides out a libvirtd that is away for a second" 0 $?
expect_eq "no domain left" 0 "$(domains)"
expect_eq "no job directory left" 0 "$(find "$state" -mindepth 2 -maxdepth 2 -name 'job.*' | wc -l)"

# A libvirtd that stays away is the node's fault, and says so.
job=$((job + 1))
libvirtd_down
out=$(ctl start --job $job --user "$user" --cpus 0 --memory 256 --image default 2>&1)
rc=$?
[ "$rc" -ne 0 ] && pass "start fails when libvirtd stays away" ||
	fail "start fails when libvirtd stays away" "$out"
expect_match "the error names the connection to libvirt" "connecting to libvirt at 'qemu:///system'" "$out"
expect_eq "nothing left of the failed start" 0 \
	"$(find "$state" -mindepth 2 -maxdepth 2 -name 'job.*' | wc -l)"
libvirtd_up

summary
