#!/bin/bash
# Hyperion's Torque scripts (plugin/pbs/torque), called exactly as Torque
# 6.1's pbs_mom calls them, against real TCG guests: prologue and epilogue
# as root with their positional arguments from a mom_priv of their own
# (root-owned, not writable by others), the job starter as the job's user
# with the job's environment, the job shell as its arguments and the
# spooled script (opened by root) on stdin. Torque itself no longer builds
# on Debian 12, hence the harness.
#
# Checks: a VM job's script runs in the guest (appliance kernel, the user's
# uid) and its exit status is the job's; an unknown vm_image aborts the job
# in the prologue (exit 1) with the list of images; epilogue.precancel (qdel)
# ends a running VM job and leaves nothing; a job without vm_image runs on
# the host; ten VM jobs in a row leave nothing behind.
#
# usage: test-torque.sh BUILD_DIR APPLIANCE_DIR
# Needs root, libvirtd (scripts/libvirt-up) and the appliance; skipped otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
helper=$build/plugin/pbs/hyperion-pbs
skip() { echo "SKIP test-torque: $*"; summary; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
virsh -c qemu:///system list >/dev/null 2>&1 || skip "libvirtd is not running (scripts/libvirt-up)"
[ -f "$appliance/vmlinuz" ] || skip "no appliance in $appliance"
[ -x "$helper" ] || skip "no $helper (build first)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

user=hyptest1
ensure_user "$user"
uid=$(id -u "$user")
group=$(id -gn "$user")
home=$(getent passwd "$user" | cut -d: -f6)
node=hyptorque
server=torquesrv
state=/run/hyperion-torque-it
tmp=$(mktemp -d /tmp/hyperion-torque-it.XXXXXX)
chmod 755 "$tmp"
conf=$tmp/hyperion.conf
mkdir -p "$tmp/images.d"
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
CONF

# mom_priv as pbs_mom wants it: root-owned scripts, not writable by others.
mom=$tmp/mom_priv
mkdir -p "$mom/jobs" "$tmp/spool"
cp "$top"/plugin/pbs/torque/* "$mom/"
cat >"$mom/hyperion.env" <<ENV
HYPERION_PBS=$helper
HYPERION_CONFIG=$conf
HYPERION_NODE=$node
HYPERION_EXEC=$build/tools/exec/hyperion-exec
ENV
chown -R root:root "$mom"
chmod 500 "$mom"/prologue* "$mom"/epilogue* "$mom/job_starter"
chmod 755 "$mom/job_starter" # run by the job's user
chmod 644 "$mom/common.sh" "$mom/hyperion.env"
chmod 1777 "$tmp/spool"

bg=()
cleanup() {
	local p j
	for p in "${bg[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	for j in $(virsh -c qemu:///system list --all --name | sed -n "s/^hyperion-$node-//p") \
		$(ls "$state/$node" 2>/dev/null | sed -n 's/^job\.\([0-9]*\)$/\1/p'); do
		"$helper" --config "$conf" stop --job "$((j - 1))" --node "$node" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

# Torque's environment for root's scripts (prologue, epilogue).
root_env() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		PBS_MSHOST="$node" PBS_RESOURCE_NODES=1 PBS_O_WORKDIR="$home" PBS_NODENUM=0 "$@"
}
# prologue JOBID RESOURCES: JOBID USER GROUP JOBNAME RESOURCES QUEUE ACCOUNT
prologue() {
	(cd "$mom" && root_env "$mom/prologue" "$1" "$user" "$group" job.sh "$2" batch "" \
		</dev/null)
}
# epilogue [SCRIPT] JOBID RESOURCES EXIT: JOBID USER GROUP JOBNAME SESSION
# RESOURCES USED QUEUE ACCOUNT EXIT
epilogue() {
	local script=epilogue
	case "$1" in epilogue*) script=$1; shift ;; esac
	(cd "$mom" && root_env "$mom/$script" "$1" "$user" "$group" job.sh 4242 "$2" \
		"cput=00:00:00,mem=0kb,vmem=0kb,walltime=00:00:05" batch "" "$3" </dev/null)
}
# start_job JOBID SCRIPT_TEXT: the job starter as the user, the job shell as
# its argument and the spooled script (root's, opened by root) on stdin;
# output in spool/JOBID.OU. The starter's pid (its own session) in job_pid.
start_job() {
	local sc="$mom/jobs/$1.SC"
	printf '%s\n' "$2" >"$sc"
	chmod 500 "$sc"
	setsid setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups \
		env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
		PATH=/usr/local/bin:/usr/bin:/bin PBS_JOBID="$1" PBS_JOBNAME=job.sh \
		PBS_O_WORKDIR="$home" PBS_O_HOST="$server" PBS_SERVER="$server" PBS_QUEUE=batch \
		PBS_ENVIRONMENT=PBS_BATCH PBS_NODENUM=0 PBS_TASKNUM=1 PBS_VNODENUM=0 \
		PBS_NODEFILE="$mom/aux/$1" PBS_MOMPORT=15003 \
		"$mom/job_starter" /bin/bash <"$sc" >"$tmp/spool/$1.OU" 2>"$tmp/spool/$1.ER" &
	job_pid=$!
}
run_job() { # JOBID SCRIPT_TEXT: runs to the end; the job's exit status
	start_job "$1" "$2"
	wait "$job_pid"
}
hyp_id() { "$helper" job-id "$1"; }
left() {
	local id
	id=$(hyp_id "$1")
	virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$id"
	ls -d "$state/$node/job.$id" "$state/$node/job.$id".* 2>/dev/null
	pgrep -af "hyperion-(exec|pbs).* --job ($id|$1) " | grep -v pgrep
	pgrep -af "qemu.*hyperion-$node-${id}[^0-9]"
}
nothing_left() { [ -z "$(left "$1")" ]; }

kernel=$(cat "$appliance/kernel-release")
res_vm="neednodes=1:ppn=1,nodes=1:ppn=1,mem=512mb,vm_image=default,walltime=00:10:00"
res_host="neednodes=1:ppn=1,nodes=1:ppn=1,mem=256mb,walltime=00:10:00"
script=$'#!/bin/sh\nuname -r\nid -u\nexit 3'

# 1. A VM job.
job=8200.$server
out=$(prologue "$job" "$res_vm" 2>&1)
rc=$?
expect_eq "prologue of a VM job succeeds" 0 "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$out"
run_job "$job" "$script"
rc=$?
expect_eq "job starter: the script's exit 3 is the job's" 3 "$rc"
expect_eq "uname -r in the job is the appliance's kernel" "$kernel" \
	"$(sed -n 1p "$tmp/spool/$job.OU")"
expect_eq "the job runs as the user's uid" "$uid" "$(sed -n 2p "$tmp/spool/$job.OU")"
[ -s "$tmp/spool/$job.ER" ] && cat "$tmp/spool/$job.ER"
check "epilogue succeeds" epilogue "$job" "$res_vm" 3
check "the VM job left nothing" nothing_left "$job"
check "a second epilogue (nothing to release) succeeds" epilogue "$job" "$res_vm" 3

# 2. An unknown image aborts the job in the prologue, with the list.
job=8201.$server
out=$(prologue "$job" "${res_vm/vm_image=default/vm_image=nope}" 2>&1)
rc=$?
expect_eq "prologue with vm_image=nope exits 1 (Torque aborts the job)" 1 "$rc"
expect_match "its message lists the images" "unknown image 'nope' \(available: default\)" "$out"
check "vm_image=nope left nothing" nothing_left "$job"

# 3. qdel of a running VM job: epilogue.precancel, then the epilogue.
job=8202.$server
check "prologue of the job to cancel" prologue "$job" "$res_vm"
start_job "$job" $'#!/bin/sh\necho started\nsleep 600'
pid=$job_pid
bg+=("$pid")
id=$(hyp_id "$job")
if wait_until 120 grep -q started "$tmp/spool/$job.OU" &&
	pgrep -f "hyperion-exec --job $id " >/dev/null; then
	pass "job $job runs in its VM through hyperion-exec"
else
	fail "job $job runs in its VM through hyperion-exec" "$(cat "$tmp/spool/$job.ER")"
fi
check "epilogue.precancel" epilogue epilogue.precancel "$job" "$res_vm" 271
wait_until 60 sh -c "! kill -0 $pid 2>/dev/null"
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL -- "-$pid" 2>/dev/null # pbs_mom kills the job's session
	fail "the cancelled job's starter ended with its VM"
else
	pass "the cancelled job's starter ended with its VM"
fi
check "epilogue after the cancel" epilogue "$job" "$res_vm" 271
check "qdel of a running VM job left no domain, state or helper process" nothing_left "$job"

# 4. A job without vm_image runs on the host.
job=8203.$server
check "prologue of a host job" prologue "$job" "$res_host"
run_job "$job" "$script"
expect_eq "a host job's exit status" 3 "$?"
expect_eq "a job without vm_image runs on the host (its kernel)" "$(uname -r)" \
	"$(sed -n 1p "$tmp/spool/$job.OU")"
check "epilogue of the host job" epilogue "$job" "$res_host" 3
check "the host job had no VM" nothing_left "$job"

# 5. Ten VM jobs in a row.
good=0
why=()
for i in $(seq 10); do
	job=$((8209 + i)).$server
	if ! out=$(prologue "$job" "$res_vm" 2>&1); then
		why+=("$job prologue: $out")
	elif ! run_job "$job" $'#!/bin/sh\nuname -r'; then
		why+=("$job starter: $(cat "$tmp/spool/$job.ER")")
	elif [ "$(cat "$tmp/spool/$job.OU")" != "$kernel" ]; then
		why+=("$job output: $(cat "$tmp/spool/$job.OU" "$tmp/spool/$job.ER")")
	elif ! out=$(epilogue "$job" "$res_vm" 0 2>&1); then
		why+=("$job epilogue: $out")
	elif ! nothing_left "$job"; then
		why+=("$job left: $(left "$job")")
	else
		good=$((good + 1))
	fi
done
[ "${#why[@]}" -eq 0 ] || printf '     %s\n' "${why[@]}"
expect_eq "10 VM jobs in a row ran in their guests and left nothing" 10 "$good"
check "no Hyperion domain of node $node remains" \
	test -z "$(virsh -c qemu:///system list --all --name | grep "^hyperion-$node-")"

summary
