#!/bin/bash
# Chaos on a real 2-node test cluster (scripts/cluster-up --nodes 2: each
# node in its own namespaces with its own slurmd and libvirtd, so restarting
# them disturbs nothing else on the machine): COUNT VM jobs (default 100),
# each meeting one fate at random (seeded, so a run can be repeated):
#   done      runs to completion                         -> COMPLETED
#   cancel    scancel while it runs                      -> CANCELLED
#   timeout   runs past its time limit                   -> TIMEOUT
#   kill9     its slurmstepd killed with SIGKILL, then   -> CANCELLED
#             reconciliation (reap --local) and scancel
#   slurmd    its node's slurmd restarted while it runs  -> COMPLETED
#   libvirtd  its node's libvirtd restarted while it runs -> COMPLETED
#   panic     its guest cannot boot (kernel panic)       -> FAILED
# Jobs are driven HYP_CHAOS_SLOTS (default 3) at a time, so restarts also
# hit the other jobs running then. Then counts what is left on every node:
# domains, virtiofsd, sockets, locks, overlays, resource lists, state
# directories, taps, leases; drained nodes; jobs whose final state is not the
# expected one; and problems of the drivers. All must be zero.
#
# usage: test-chaos.sh BUILD_DIR APPLIANCE_DIR [COUNT] [SEED]
# Needs root; run under flock /run/hyperion-slurm.lock (it starts and stops
# the multi-node test cluster).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
count=${3:-100}
seed=${4:-$$}
user=hyptest1
ensure_user "$user"
RANDOM=$seed

tmp=$(mktemp -d /tmp/hyperion-chaos.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-chaos
conf="$tmp/hyperion.conf"
cluster=/run/hyperion-cluster-chaos
export SLURM_CONF=$cluster/slurm.conf
mkdir -p "$tmp/broken/etc"
echo x >"$tmp/broken/etc/x"
(cd "$tmp/broken" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$tmp/broken.img"
test_config "$tmp" "$state" "$appliance"
sed -i "s/^boot_timeout = .*/boot_timeout = 30/" "$conf"
cat >>"$tmp/images.d/test.conf" <<CONF

[image panic]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $tmp/broken.img
CONF
home=$(getent passwd "$user" | cut -d: -f6)
work="$home/hyperion-chaos"
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"

cleanup() {
	"$top/scripts/cluster-down" --state "$cluster" --purge >/dev/null 2>&1
	rm -rf "$tmp" "$work" "$state"
}
trap cleanup EXIT

"$top/scripts/cluster-up" --state "$cluster" --nodes 2 --plugin "$build/plugin/slurm/hyperion.so" \
	--hyperion-conf "$conf" --exec "$build/tools/exec/hyperion-exec" \
	--features hyperion,hyperion_tcg --no-check >"$tmp/cluster-up.log" 2>&1 ||
	{ cat "$tmp/cluster-up.log"; fail "cluster-up --nodes 2"; summary; exit 1; }
nodes=(node1 node2)
on() { "$top/scripts/slurm/node-exec" --state "$cluster" "$@"; }
ctl() { "$build/tools/ctl/hyperionctl" -c "$conf" "$@"; }
as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }
# Final states from jobcomp/filetxt: slurmctld forgets jobs MinJobAge after
# they end, and a long run outlives that.
job_state() { sed -n "s/^JobId=$1 .* JobState=\([A-Z_]*\) .*/\1/p" "$cluster/log/jobcomp.log" | tail -n 1; }
job_node() { squeue -h -j "$1" -o %N 2>/dev/null; }
running_vm() {
	local n
	n=$(job_node "$1")
	[ -n "$n" ] && on "$n" virsh -c qemu:///system domstate "hyperion-$n-$1" 2>/dev/null |
		grep -qx running
}
wait_for() { # SECONDS CMD...
	local t=$(($1 * 5))
	shift
	until "$@"; do t=$((t - 1)); [ "$t" -gt 0 ] || return 1; sleep 0.2; done
}
restart_slurmd() { # NODE
	local pid
	pid=$(cat "$cluster/slurmd.$1.pid")
	kill -TERM "$pid"
	wait_for 20 sh -c "! kill -0 $pid 2>/dev/null"
	on "$1" slurmd -f "$cluster/slurm.conf" -N "$1" </dev/null >>"$cluster/log/slurmd.$1.stderr" 2>&1
}
restart_libvirtd() { # NODE: libvirtd only; QEMU and virtlogd stay, as with systemctl restart
	local pid
	pid=$(cat "$cluster/nodes/$1/libvirtd.pid")
	kill -TERM "$pid"
	wait_for 30 sh -c "! kill -0 $pid 2>/dev/null"
	"$top/scripts/slurm/node-libvirt" --state "$cluster" up "$1" >/dev/null
}

fates=(done cancel timeout kill9 slurmd libvirtd panic)
declare -A expect=([done]=COMPLETED [cancel]=CANCELLED [timeout]=TIMEOUT [kill9]=CANCELLED
	[slurmd]=COMPLETED [libvirtd]=COMPLETED [panic]=FAILED)
results="$tmp/results" # "JOBID FATE" per job, appended by the drivers
problems="$tmp/problems"
gate="$tmp/gate" # drivers hold it shared while their job starts, restarts exclusively
touch "$results" "$problems"
gone() { ! squeue -h -j "$1" 2>/dev/null | grep . >/dev/null; }
running_or_gone() { running_vm "$1" || gone "$1"; }

# drive FATE: submits one job and makes it meet FATE. Restarts of slurmd and
# libvirtd wait until no other job is starting (the gate): what they test is
# a restart under running jobs; a restart under a starting VM has its own
# test (test-libvirtd-restart.sh).
drive() {
	local fate=$1 image=default script='sleep 4; echo ok' jid node
	local extra=()
	case $fate in
	panic) image=panic ;;
	cancel | kill9) script='sleep 600' ;;
	timeout) script='sleep 600' extra=(--time=1) ;;
	esac
	exec 8>"$gate"
	flock -s 8
	if ! jid=$(as_user sbatch --parsable --vm-image="$image" -o /dev/null "${extra[@]}" \
		--wrap "$script" 2>&1); then
		echo "sbatch ($fate): $jid" >>"$problems"
		return
	fi
	jid=${jid%%;*}
	echo "$jid $fate" >>"$results"
	wait_for 180 running_or_gone "$jid" || echo "job $jid ($fate): never ran" >>"$problems"
	node=$(job_node "$jid")
	flock -u 8
	case $fate in
	cancel) scancel "$jid" ;;
	kill9)
		# the extern step boots the VM at the job's start: the batch step's
		# slurmstepd may come a moment later (killing only the extern one
		# makes Slurm requeue the job, another fate)
		wait_for 60 pgrep -f "^slurmstepd: \[$jid\.batch\]" >/dev/null
		pkill -KILL -f "^slurmstepd: \[$jid\." || true
		on "$node" "$build/tools/ctl/hyperionctl" -c "$conf" reap --local >/dev/null
		scancel "$jid"
		;;
	slurmd) (flock -x -w 120 9; restart_slurmd "$node") 9>"$gate" ;;
	libvirtd) (flock -x -w 120 9; restart_libvirtd "$node") 9>"$gate" ;;
	esac
	wait_for 300 gone "$jid" || echo "job $jid ($fate): still queued after 300 s" >>"$problems"
}

# Up to $slots drivers at a time; a time-limit job runs beside them (it only
# waits for its limit) and is waited for at the end.
slots=${HYP_CHAOS_SLOTS:-3}
busy=()
late=()
t0=$SECONDS
echo "== $count jobs (seed $seed, $slots at a time)"
for i in $(seq "$count"); do
	fate=${fates[$((RANDOM % ${#fates[@]}))]}
	while :; do
		alive=()
		for p in "${busy[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
		busy=("${alive[@]}")
		[ "${#busy[@]}" -lt "$slots" ] && break
		sleep 0.5
	done
	drive "$fate" &
	if [ "$fate" = timeout ]; then late+=($!); else busy+=($!); fi
	printf '%s ' "$fate"
done
wait
echo
echo "   all jobs ended after $((SECONDS - t0)) s"
sleep 5 # the last epilogs
echo "== what is left"
wrong=0
while read -r jid fate; do
	got=$(job_state "$jid")
	want=${expect[$fate]}
	if [ "$got" != "$want" ]; then
		wrong=$((wrong + 1))
		echo "     job $jid ($fate): $got, expected $want"
	fi
done <"$results"
lost=$(wc -l <"$problems")
[ "$lost" -eq 0 ] || sed 's/^/     /' "$problems"
domains=0 taps=0
for n in "${nodes[@]}"; do
	domains=$((domains + $(on "$n" virsh -c qemu:///system list --all --name | grep -c '^hyperion-')))
	# interface names only: fab0's line also names its peer's namespace, hyp-fabric
	taps=$((taps + $(ip -n "hyp-$n" -o link show 2>/dev/null | awk -F': ' '{print $2}' |
		grep -c '^hyp-')))
done
virtiofsd=$(pgrep -c -u "$user" virtiofsd)
files() { find "$state" -name "$1" 2>/dev/null | wc -l; }
dirs=$(find "$state" -mindepth 2 -maxdepth 2 -type d -name 'job.*' 2>/dev/null | wc -l)
leases=$(find "$state" -name '*.lease' 2>/dev/null | wc -l)
drained=$(sinfo -R -h | grep -c .)
printf 'chaos: %d jobs: domains=%d virtiofsd=%d sockets=%d locks=%d overlays=%d lists=%d dirs=%d taps=%d leases=%d drained=%d wrong_state=%d driver_problems=%d\n' \
	"$count" "$domains" "$virtiofsd" "$(files '*.sock')" "$(files '*.lock')" \
	"$(files 'overlay.qcow2')" "$(files '*.res')" "$dirs" "$taps" "$leases" "$drained" "$wrong" "$lost"
for k in domains virtiofsd dirs taps leases drained wrong lost; do
	expect_eq "no $k left" 0 "${!k}"
done
expect_eq "no socket, lock, overlay or resource list left" 0 \
	"$(($(files '*.sock') + $(files '*.lock') + $(files 'overlay.qcow2') + $(files '*.res')))"
summary
