#!/bin/bash
# Slurm commands inside a VM job's guest, on a real single-node Slurm cluster
# with the plugin, as the non-root user hyptest1 (issue 9, "How it is
# shown"): a batch script in the VM calls srun, scontrol, squeue, scancel,
# sbatch through the thin guest commands; nested steps run in the same VM;
# srun --pty typed in a VM job's shell; the cost of srun issued in the guest.
# About 3-4 minutes under TCG.
#
# usage: test-guest-slurm.sh BUILD_DIR APPLIANCE_DIR
# Needs root; starts the cluster with scripts/cluster-up and stops it again
# (run it under flock /run/hyperion-slurm.lock beside other helpers' tests).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
user=hyptest1
ensure_user "$user"

tmp=$(mktemp -d /tmp/hyperion-guest-slurm.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-guest-slurm
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d"
cat >"$conf" <<CONF
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
images = $tmp/images.d
shares = /home
guest_commands = /usr/bin/srun /usr/bin/sbatch /usr/bin/scancel /usr/bin/squeue /usr/bin/scontrol
CONF
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
CONF
home=$(getent passwd "$user" | cut -d: -f6)
work="$home/hyperion-guest-slurm"
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"

cleanup() {
	"$top/scripts/cluster-down" >/dev/null 2>&1
	rm -rf "$tmp" "$work"
}
trap cleanup EXIT

if ! "$top/scripts/cluster-up" --plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$conf" \
	--exec "$build/tools/exec/hyperion-exec" --features hyperion,hyperion_tcg \
	--no-check >"$tmp/cluster-up.log" 2>&1; then
	cat "$tmp/cluster-up.log"
	fail "cluster-up"
	summary
	exit 1
fi
pass "cluster up with the plugin"
as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }
job_field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

echo "== a batch script in the VM uses Slurm"
head -c 10000000 /dev/urandom >"$work/in10"
chown "$user" "$work/in10"
cat >"$work/job.sh" <<'JOB'
#!/bin/sh
echo "boot=$(cat /proc/sys/kernel/random/boot_id)"
echo "which=$(command -v srun)"
srun -n 2 cat /proc/sys/kernel/random/boot_id | sed 's/^/step=/'
srun sh -c 'exit 3'
echo "rc3=$?"
echo "sum=$(srun -n 1 cat <in10 | sha256sum | cut -c1-64)"
echo "scontrol=$(scontrol show job "$SLURM_JOB_ID" | grep -c "JobId=$SLURM_JOB_ID")"
echo "squeue=$(squeue -h -j "$SLURM_JOB_ID" -o %i)"
srun sleep 300 &
sleep 5
step=$(squeue -h -s -j "$SLURM_JOB_ID" -o %i | grep -v '\.batch$' | grep -v '\.extern$' | head -n 1)
scancel "$step"
wait $!
echo "scancel=$? step=$step"
echo "sbatch=$(sbatch --parsable --wrap 'echo wrapped' -o wrapped.out)"
sattach "$SLURM_JOB_ID.0" 2>sattach.err
echo "refused=$? $(cat sattach.err)"
munge -n >/dev/null 2>&1
echo "munge=$?"
cat /etc/munge/munge.key >/dev/null 2>&1
echo "key=$?"
grep -c -i -e AuthInfo -e StoragePass /etc/slurm/slurm.conf 2>/dev/null
echo "conf=$?"
srun sleep 300 &
p=$!
sleep 5
kill -INT $p # srun wants two within a second, as from a terminal
sleep 0.3
kill -INT $p
wait $p
echo "int=$?"
echo "left=$(squeue -h -s -j "$SLURM_JOB_ID" -o %j | grep -c sleep)"
JOB
chmod 755 "$work/job.sh"
t0=$(date +%s)
out=$(as_user sbatch --parsable --wait --vm-image=default -n 2 -o "$work/out-%j.txt" "$work/job.sh")
jid=${out%%;*}
text=$(cat "$work/out-$jid.txt" 2>/dev/null)
echo "     (the batch job took $(($(date +%s) - t0)) s)"
sed 's/^/     | /' <<<"$text" # what the script printed, for a failure's reader
boot=$(sed -n 's/^boot=//p' <<<"$text")
expect_eq "srun is the thin guest command" "/usr/bin/srun" "$(sed -n 's/^which=//p' <<<"$text")"
expect_eq "srun -n 2 boot_id: the script's own, twice (the tasks ran in the same VM)" \
	"$boot $boot" "$(sed -n 's/^step=//p' <<<"$text" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "srun sh -c 'exit 3' returns 3 to the script" 3 "$(sed -n 's/^rc3=//p' <<<"$text")"
expect_eq "10 MB through srun cat come back with the same checksum" \
	"$(sha256sum <"$work/in10" | cut -c1-64)" "$(sed -n 's/^sum=//p' <<<"$text")"
expect_eq "scontrol show job \$SLURM_JOB_ID shows the job" 1 "$(sed -n 's/^scontrol=//p' <<<"$text")"
expect_eq "squeue -j \$SLURM_JOB_ID shows the job" "$jid" "$(sed -n 's/^squeue=//p' <<<"$text")"
expect_match "scancel of one of its steps ends that step" "^scancel=[1-9][0-9]* step=$jid\.[0-9]+$" \
	"$(grep '^scancel=' <<<"$text")"
wrapped=$(sed -n 's/^sbatch=//p' <<<"$text")
for _ in $(seq 1 60); do [ -s "$work/wrapped.out" ] && break; sleep 1; done
expect_match "sbatch --wrap from the guest submits a job" "^[0-9]+" "$wrapped"
expect_eq "... that runs" "wrapped" "$(cat "$work/wrapped.out" 2>/dev/null)"
expect_eq "munge -n fails in the guest" 127 "$(sed -n 's/^munge=//p' <<<"$text")"
expect_match "the munge key cannot be read in the guest" "^key=[1-9]" "$(grep '^key=' <<<"$text")"
expect_match "nor slurm.conf's secrets" "^conf=[1-9]" "$(grep '^conf=' <<<"$text")"
expect_match "a command outside guest_commands is refused in the guest (exit 126)" \
	"^refused=126 sattach: 'sattach' is not a command this host runs" "$(grep '^refused=' <<<"$text")"
expect_match "SIGINT (twice, as Ctrl-C) to the in-guest srun ends it" "^int=[1-9]" \
	"$(grep '^int=' <<<"$text")"
expect_eq "... and its step" 0 "$(sed -n 's/^left=//p' <<<"$text")"
expect_eq "the job itself ends well" "0:0" "$(job_field "$jid" ExitCode)"
[ -n "$text" ] || cat "$work"/out-*.txt 2>/dev/null

echo "== interactive: srun --pty in a VM job, and srun --pty typed in its shell"
# pty-run.py is the user's terminal; the step's shell gets the agent's pty in
# the guest, and the srun it runs is the thin command on that terminal.
(cd / && runuser -u "$user" -- timeout -s KILL 300 python3 "$here/pty-run.py" "$work/pty.out" \
	salloc --vm-image=default -n 2 srun -n 1 --pty sh -c \
	'tty; srun --overlap -n 1 --pty tty; echo "rc=$?"; srun --overlap -n 2 hostname | sort | uniq -c' \
	>/dev/null 2>&1)
text=$(tr -d '\r' <"$work/pty.out" 2>/dev/null)
sed 's/^/     | /' <<<"$text"
expect_eq "srun --pty sh in a VM job, then srun --pty tty in it: both on a terminal" 2 \
	"$(grep -c '^/dev/pts/[0-9]*$' <<<"$text")"
expect_match "... the in-guest srun --pty exits 0" "^rc=0$" "$text"
expect_match "srun -n 2 hostname typed in the guest shell runs 2 tasks" "^ *2 [^ ]+$" "$text"

echo "== cost of srun true issued in the guest, against srun true issued on the host, same allocation"
# Both timed by the host's clock, not the guest's: under TCG the guest's
# clock is emulated (its timer interrupts are processed only when the vCPU
# thread gets the host CPU, and on this shared 2-core machine it often does
# not), so it drifts from real time exactly when the machine is busy, and
# /proc/uptime counts in 10 ms ticks. So the host times a step that issues N
# srun --overlap true in the guest, minus a step that issues none (the
# wrapper step's own cost), against N srun --overlap true issued on the host.
# Every step of a VM job runs in its VM: the two differ only in where srun
# is issued. A step spawning N bare processes in the guest shows how much
# of the difference is the emulated guest's own fork and exec. HYP_GUEST_SLURM_BENCH_OUT: a file for "host_ms guest_ms" (per
# srun) for scripts/bench --guest-slurm-only.
n=10
cat >"$work/cost-host.sh" <<SH
#!/bin/sh
ms() { echo \$((\$(date +%s%N) / 1000000)); }
wrap=999999
for k in 1 2; do # the wrapper step with no srun in it, the faster of two
	t0=\$(ms); srun --overlap sh -c true; t1=\$(ms)
	[ \$((t1 - t0)) -lt \$wrap ] && wrap=\$((t1 - t0))
done
t2=\$(ms)
srun --overlap sh -c 'for i in $(seq -s " " $n); do srun --overlap true; echo "rc=\$?"; done'
t3=\$(ms)
for i in $(seq -s " " $n); do srun --overlap true; done
t4=\$(ms)
srun --overlap sh -c 'for i in $(seq -s " " $n); do /bin/sh -c :; done'
t5=\$(ms)
echo "host=\$(((t4 - t3) / $n)) guest=\$(((t3 - t2 - wrap) / $n)) spawn=\$(((t5 - t4 - wrap) / $n)) wrap=\$wrap"
SH
chmod 755 "$work/cost-host.sh"
# From / (not shared: the guest runs it in its own /): an allocation's
# virtiofsd was seen gone after its first srun steps (an open problem of the
# shares, not of this test), and nothing here needs the share.
cost=$(cd / && runuser -u "$user" -- salloc --vm-image=default -n 1 "$work/cost-host.sh" 2>"$tmp/cost.err")
host_ms=$(sed -n 's/^host=\([0-9]*\) .*/\1/p' <<<"$cost")
guest_ms=$(sed -n 's/^host=[0-9]* guest=\(-\{0,1\}[0-9]*\) .*/\1/p' <<<"$cost")
spawn_ms=$(sed -n 's/.* spawn=\(-\{0,1\}[0-9]*\) .*/\1/p' <<<"$cost")
wrap_ms=$(sed -n 's/.* wrap=\([0-9]*\)$/\1/p' <<<"$cost")
if [ -n "$host_ms" ] && [ -n "$guest_ms" ] && [ "$host_ms" -gt 0 ] && [ "$(grep -c '^rc=0$' <<<"$cost")" = $n ]; then
	pass "srun true: $host_ms ms issued on the host, $guest_ms ms issued in the guest, both by the host's clock ($(awk -v a="$guest_ms" -v b="$host_ms" 'BEGIN { printf "%.2f", a / b }')x; target 1.3x; the wrapper step: $wrap_ms ms; a bare process spawned in the guest, emulated: $spawn_ms ms)"
	[ -z "${HYP_GUEST_SLURM_BENCH_OUT:-}" ] || echo "$host_ms $guest_ms" >"$HYP_GUEST_SLURM_BENCH_OUT"
else
	fail "srun true measured from the host, issued on the host and in the guest" "$cost $(head -c 600 "$tmp/cost.err")"
fi

summary
