#!/bin/bash
# The SPANK plugin on a real single-node Slurm cluster (munged, slurmctld,
# slurmd, libvirtd), as the non-root user hyptest1.
#
# usage: test-slurm.sh BUILD_DIR APPLIANCE_DIR
# Needs root; starts the cluster with scripts/cluster-up and stops it again.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
user=hyptest1
ensure_user "$user"
ensure_user hyptest2

tmp=$(mktemp -d /tmp/hyperion-slurm-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-slurm-it
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d"
cat >"$conf" <<CONF
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
images = $tmp/images.d
shares = /home
CONF
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img

[image nokernel]
kind = appliance
kernel = $tmp/no-such-vmlinuz
initrd = $appliance/initrd.img

# a cpio archive without /init: the guest kernel panics
[image panic]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $tmp/broken.img
CONF
mkdir -p "$tmp/broken/etc"
echo x >"$tmp/broken/etc/x"
(cd "$tmp/broken" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$tmp/broken.img"
echo "console_keep_dir = $tmp/consoles" >>"$conf"
home=$(getent passwd "$user" | cut -d: -f6)
work="$home/hyperion-it"
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"

cleanup() {
	"$top/scripts/cluster-down" >/dev/null 2>&1
	rm -rf "$tmp" "$work"
}
trap cleanup EXIT

"$top/scripts/cluster-up" --plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$conf" \
	--exec "$build/tools/exec/hyperion-exec" --features hyperion,hyperion_tcg \
	--no-check >"$tmp/cluster-up.log" 2>&1 ||
	{ cat "$tmp/cluster-up.log"; fail "cluster-up"; live_virtiofsd() { # this test's, not zombies: PID 1 here reaps orphans slowly
	local p n=0
	for p in $(pgrep -u "$user" virtiofsd); do
		grep -qxF "$p" <<<"$vfs_before" && continue
		[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] || n=$((n + 1))
	done
	echo "$n"
}
expect_eq "no virtiofsd of the user left after every job above (completed, cancelled, timed out, killed, failed)" \
	0 "$(live_virtiofsd)"

summary; exit 1; }
pass "cluster up with the plugin"

as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }
kernel=$(cat "$appliance/kernel-release")
host_kernel=$(uname -r)
node=$(hostname -s)
vfs_before=$(pgrep -u "$user" virtiofsd) # another test's, if one runs beside this one
nothing_left() { # no domain, state directory, lock, resource list or prolog record for job $1
	! virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null &&
		[ ! -e "$state/$node/job.$1" ] && [ ! -e "$state/$node/job.$1.lock" ] &&
		[ ! -e "$state/$node/job.$1.res" ] && [ ! -e "$state/$node/job.$1.options" ]
}
wait_nothing_left() { # JOB SECONDS
	local i
	for i in $(seq "$2"); do nothing_left "$1" && return 0; sleep 1; done
	nothing_left "$1"
}
job_field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
node_state() { sinfo -h -n "$node" -o %T; }

echo "== sbatch"
expect_match "sbatch --help describes --vm-image" "vm-image.*virtual machine" "$(as_user sbatch --help 2>&1 | tr '\n' ' ')"
cat >"$work/job.sh" <<'JOB'
#!/bin/sh
echo "kernel=$(uname -r)"
echo "uid=$(id -u)"
echo "job=$SLURM_JOB_ID"
JOB
chmod 755 "$work/job.sh"
out=$(as_user sbatch --parsable --wait --vm-image=default -o "$work/out-%j.txt" "$work/job.sh")
jid=${out%%;*}
text=$(cat "$work/out-$jid.txt" 2>/dev/null)
expect_match "the batch script ran in the appliance kernel, not the host's" "^kernel=$kernel\$" "$text"
expect_match "... as the user" "^uid=$(id -u "$user")\$" "$text"
expect_match "... with its own SLURM_JOB_ID" "^job=$jid\$" "$text"
check "... and the VM is gone after the job" wait_nothing_left "$jid" 30

printf '#!/bin/sh\nexit 3\n' >"$work/exit3.sh"
chmod 755 "$work/exit3.sh"
jid=$(as_user sbatch --parsable --wait --vm-image=default -o /dev/null "$work/exit3.sh")
expect_eq "exit 3 in the script gives ExitCode=3:0" "3:0" "$(job_field "${jid%%;*}" ExitCode)"

echo "== srun and salloc"
out=$(as_user srun --vm-image=default -n 2 uname -r)
expect_eq "srun -n 2: both tasks run in the guest" "$kernel $kernel" "$(echo $out)"
out=$(as_user srun --vm-image=default -n 2 hostname)
expect_eq "... (the guest is named as the node)" "$node $node" "$(echo $out)"
ids=$(as_user salloc --vm-image=default -n 1 sh -c \
	'srun cat /proc/sys/kernel/random/boot_id; srun cat /proc/sys/kernel/random/boot_id' 2>/dev/null)
first=$(echo "$ids" | sed -n 1p)
second=$(echo "$ids" | sed -n 2p)
[ -n "$first" ] && [ "$first" = "$second" ] && pass "two srun steps of one allocation share the guest" ||
	fail "two srun steps of one allocation share the guest" "$ids"
third=$(as_user salloc --vm-image=default -n 1 srun cat /proc/sys/kernel/random/boot_id 2>/dev/null)
[ -n "$third" ] && [ "$third" != "$first" ] && pass "a new allocation gets a new guest" ||
	fail "a new allocation gets a new guest" "$first / $third"
expect_eq "a job without --vm-image runs on the host" "$host_kernel" "$(as_user srun uname -r)"

echo "== --export and the user's environment cannot take a job out of its VM"
# The job's --vm-image travels in its SPANK environment, apart from the
# environment --export hands over. The test site has no default image, so
# an empty value (which the user may put in the step's environment) must not
# mean "no VM" either.
opt=_SLURM_SPANK_OPTION_hyperion_vm_image
jobopt=SLURM_SPANK_$opt
for exp in NONE HOME "ALL,$opt=" "NONE,$jobopt=" "HOME,$opt=,$jobopt="; do
	jid=$(as_user sbatch --parsable --wait --vm-image=default --export="$exp" \
		-o "$work/export-%j.txt" --wrap 'echo "kernel=$(/bin/uname -r)"')
	jid=${jid%%;*}
	expect_match "sbatch --export=$exp: the batch script runs in the guest" "^kernel=$kernel\$" \
		"$(cat "$work/export-$jid.txt" 2>/dev/null)"
done
jid=$(as_user env "$jobopt=" "$opt=" sbatch --parsable --wait --vm-image=default --export=NONE \
	-o "$work/export-%j.txt" --wrap 'echo "kernel=$(/bin/uname -r)"')
jid=${jid%%;*}
expect_match "... also with $jobopt= and $opt= in sbatch's own environment" "^kernel=$kernel\$" \
	"$(cat "$work/export-$jid.txt" 2>/dev/null)"
expect_eq "srun --vm-image --export=NONE runs in the guest" "$kernel" \
	"$(as_user srun --vm-image=default --export=NONE /bin/uname -r 2>/dev/null)"
expect_eq "salloc --vm-image: an srun step without the job's option in its environment runs in the guest" \
	"$kernel" "$(as_user salloc --vm-image=default -n 1 env -u "$jobopt" \
		srun --export=NONE /bin/uname -r 2>/dev/null)"
expect_eq "... and one with $opt= in its environment too" "$kernel" \
	"$(as_user salloc --vm-image=default -n 1 env -u "$jobopt" \
		srun --export="ALL,$opt=" /bin/uname -r 2>/dev/null)"
jid=$(as_user sbatch --parsable --vm-image=default --export=NONE -o /dev/null --wrap 'sleep 600')
for _ in $(seq 90); do [ "$(job_field "$jid" JobState)" = RUNNING ] && break; sleep 1; done
for exp in ALL NONE "ALL,$opt=,$jobopt="; do
	expect_eq "srun --jobid=<VM job> --overlap --export=$exp from the host runs in the job's guest" \
		"$kernel" "$(as_user srun --jobid="$jid" --overlap --export="$exp" /bin/uname -r 2>/dev/null)"
done
as_user scancel "$jid"
check "... and the job leaves nothing" wait_nothing_left "$jid" 30
expect_eq "a job without --vm-image still runs on the host with --export=NONE" "$host_kernel" \
	"$(as_user srun --export=NONE /bin/uname -r 2>/dev/null)"
# A VM job whose prolog record is lost (as if slurmd ran no job prolog):
# its steps fail and say why.
rm -f "$work/go"
as_user salloc --vm-image=default -n 1 sh -c \
	"while [ ! -e '$work/go' ]; do sleep 0.2; done; srun /bin/uname -r" >"$work/lost.txt" 2>&1 &
for _ in $(seq 60); do
	jid=$(squeue -h -u "$user" -t R -o %i | head -n 1)
	[ -n "$jid" ] && [ -e "$state/$node/job.$jid.options" ] && break
	sleep 0.5
done
rm -f "$state/$node/job.$jid.options"
as_user touch "$work/go"
wait
text=$(cat "$work/lost.txt")
expect_match "a VM job whose record is lost fails and says why" \
	"hyperion: job [0-9]+: cannot recover the job's --vm-image" "$text"
expect_eq "... and runs nothing on the host" "" "$(echo "$text" | grep -xF "$host_kernel")"

echo "== scancel and time limit"
jid=$(as_user sbatch --parsable --vm-image=default -o /dev/null --wrap 'sleep 1000')
for _ in $(seq 60); do
	virsh -c qemu:///system list --name | grep -x "hyperion-$node-$jid" >/dev/null && break
	sleep 1
done
as_user scancel "$jid"
check "scancel: nothing left within KillWait plus a few seconds" wait_nothing_left "$jid" 20
jid=$(as_user sbatch --parsable --vm-image=default --time=1 -o /dev/null --wrap 'sleep 1000')
for _ in $(seq 150); do
	[ "$(job_field "$jid" JobState)" = TIMEOUT ] && break
	sleep 1
done
expect_eq "a job over its time limit ends TIMEOUT" TIMEOUT "$(job_field "$jid" JobState)"
check "... and leaves nothing within KillWait plus a few seconds" wait_nothing_left "$jid" 20

echo "== ten jobs in a row"
ids=()
for _ in $(seq 10); do ids+=("$(as_user srun --vm-image=default sh -c 'echo $SLURM_JOB_ID' 2>/dev/null)"); done
expect_eq "ten VM jobs ran" 10 "$(printf '%s\n' "${ids[@]}" | grep -c '^[0-9]')"
all_gone() { local j; for j in "${ids[@]}"; do wait_nothing_left "$j" 15 || return 1; done; }
check "no domain, state directory, socket, overlay or lock left" all_gone
expect_eq "the node's state directory is empty" "" "$(ls -A "$state/$node" 2>/dev/null)"

echo "== a killed slurmstepd, then a slurmd restart: nothing is lost"
cluster=/run/hyperion-cluster
jid=$(as_user sbatch --parsable --vm-image=default -o /dev/null --wrap 'sleep 1000')
for _ in $(seq 60); do
	virsh -c qemu:///system list --name | grep -x "hyperion-$node-$jid" >/dev/null && break
	sleep 1
done
check "the job's VM runs, with a resource list" test -s "$state/$node/job.$jid.res"
# the extern step boots the VM at the job's start: wait for the batch step too
for _ in $(seq 60); do pgrep -f "^slurmstepd: \[$jid\.batch\]" >/dev/null && break; sleep 1; done
pkill -KILL -f "^slurmstepd: \[$jid\." || true
sleep 1
check "... its slurmstepd is gone" sh -c "! pgrep -f '^slurmstepd: \[$jid\.'"
check "... and its VM is still there, as after a crash" \
	virsh -c qemu:///system domstate "hyperion-$node-$jid"
logpos=$(wc -c <"$cluster/log/slurmd.log")
kill -TERM "$(cat "$cluster/slurmd.pid")"
for _ in $(seq 50); do pgrep -x slurmd >/dev/null || break; sleep 0.2; done
slurmd -f "$cluster/slurm.conf" </dev/null >>"$cluster/log/slurmd.stderr" 2>&1
vm_gone() { # no domain, state directory, lock or resource list: the job's prolog
	# record stays until its epilog, the job being alive in Slurm's eyes
	local i
	for i in $(seq "$2"); do
		! virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null &&
			[ ! -e "$state/$node/job.$1" ] && [ ! -e "$state/$node/job.$1.lock" ] &&
			[ ! -e "$state/$node/job.$1.res" ] && return 0
		sleep 1
	done
	return 1
}
check "after slurmd's restart, the job's VM and its whole resource list are gone" vm_gone "$jid" 30
restart_log=$(tail -c +"$((logpos + 1))" "$cluster/log/slurmd.log")
expect_match "... with a log line naming its domain" \
	"hyperion: slurmd start: released domain hyperion-$node-$jid" "$restart_log"
expect_match "... and one naming its state directory" \
	"hyperion: slurmd start: released dir $state/$node/job.$jid" "$restart_log"
scancel "$jid" 2>/dev/null
check "... and once the job is cancelled, its epilog leaves nothing" wait_nothing_left "$jid" 30
for _ in $(seq 30); do [ "$(node_state)" = idle ] && break; sleep 1; done

echo "== Slurm's per-task set-up reaches the guest (prologs, TMPDIR, limits, umask, scripts)"
cat >"$work/prolog.sh" <<'P'
#!/bin/sh
echo "print line of the task prolog"
echo "export FROM_PROLOG=prolog-value"
P
chmod 755 "$work/prolog.sh"
out=$(as_user srun --vm-image=default --task-prolog="$work/prolog.sh" \
	sh -c 'echo "kernel=$(uname -r) var=$FROM_PROLOG"' 2>/dev/null)
expect_eq "srun --task-prolog: its print line starts the task's output" \
	"line of the task prolog" "$(sed -n 1p <<<"$out")"
expect_eq "... and its export reaches the task in the guest" "kernel=$kernel var=prolog-value" \
	"$(sed -n 2p <<<"$out")"
# TaskProlog in slurm.conf (cluster-up has no option for it): added, then
# taken out again, each time with scontrol reconfigure.
slurm_conf=$(readlink -f /etc/slurm/slurm.conf)
cat >"$tmp/site-prolog.sh" <<'P'
#!/bin/sh
echo "print site prolog"
echo "export FROM_SITE=site-value"
P
chmod 755 "$tmp/site-prolog.sh"
cp "$slurm_conf" "$tmp/slurm.conf.saved"
echo "TaskProlog=$tmp/site-prolog.sh" >>"$slurm_conf"
scontrol reconfigure && sleep 2
out=$(as_user srun --vm-image=default --task-prolog="$work/prolog.sh" \
	sh -c 'echo "site=$FROM_SITE user=$FROM_PROLOG"' 2>/dev/null)
cp "$tmp/slurm.conf.saved" "$slurm_conf"
scontrol reconfigure && sleep 2
expect_eq "TaskProlog of slurm.conf, then --task-prolog: both print lines, in Slurm's order" \
	"site prolog|line of the task prolog" "$(sed -n '1p;2p' <<<"$out" | paste -sd'|')"
expect_eq "... and both exports reach the task in the guest" "site=site-value user=prolog-value" \
	"$(sed -n 3p <<<"$out")"
expect_eq "TMPDIR is what Slurm sets (/tmp when the user has none)" "/tmp" \
	"$(as_user env -u TMPDIR srun --vm-image=default sh -c 'echo $TMPDIR' 2>/dev/null)"
expect_eq "... and the user's own when there is one" "$work/tmpdir" \
	"$(as_user env TMPDIR="$work/tmpdir" srun --vm-image=default sh -c 'echo $TMPDIR' 2>/dev/null)"
expect_eq "ulimit -n 512 before srun: the task in the guest has 512" "512" \
	"$(as_user bash -c 'ulimit -n 512; srun --vm-image=default sh -c "ulimit -n"' 2>/dev/null)"
expect_eq "... ulimit -s and -c too" "4096 0" \
	"$(as_user bash -c 'ulimit -s 4096; ulimit -c 0; srun --vm-image=default sh -c "echo \$(ulimit -s) \$(ulimit -c)"' 2>/dev/null)"
expect_eq "a task with the default limits: the guest takes them all (no warning)" "" \
	"$(as_user srun --vm-image=default true 2>&1 | grep RLIMIT)"
expect_eq "umask 027 before srun: the task's umask in the guest" "0027" \
	"$(as_user bash -c 'umask 027; srun --vm-image=default sh -c umask' 2>/dev/null)"
jid=$(as_user bash -c "ulimit -n 512; sbatch --parsable --wait --vm-image=default -o '$work/limits-%j.txt' --wrap 'ulimit -n'")
expect_eq "ulimit -n 512 before sbatch: the batch script in the guest has 512" "512" \
	"$(cat "$work/limits-${jid%%;*}.txt" 2>/dev/null)"
# A script that prints its own checksum, then bytes it never reaches: all
# values but NUL and CR (sbatch refuses both: "The Slurm controller does not
# allow scripts that contain a NULL character"; DOS line breaks). Scripts
# with NUL bytes go through hyperion-exec --script in exec-agent-host.sh.
for size in 1048576 4194304; do
	{ printf '#!/bin/sh\nsha256sum <"$0" | cut -d" " -f1\nexit 0\n'
	  head -c $((2 * size)) /dev/urandom | tr -d '\000\r'; } | head -c "$size" >"$work/big-$size.sh"
	want=$(sha256sum <"$work/big-$size.sh" | cut -d' ' -f1)
	jid=$(as_user sbatch --parsable --wait --vm-image=default -o "$work/big-%j.txt" "$work/big-$size.sh")
	expect_eq "a $size-byte batch script reaches the guest intact (checksum inside)" "$want" \
		"$(cat "$work/big-${jid%%;*}.txt" 2>/dev/null)"
done
printf '#!/bin/sh\necho x\n\000\n' >"$work/nul.sh"
out=$(as_user sbatch --vm-image=default "$work/nul.sh" 2>&1)
expect_match "a script with a NUL byte: sbatch itself refuses it" "NULL character" "$out"
printf '0 echo multi-prog-ran\n' >"$work/multi.conf"
out=$(as_user srun --vm-image=default -n 1 --multi-prog "$work/multi.conf" 2>&1)
expect_match "srun --multi-prog is refused with a clear message" \
	"hyperion: srun --multi-prog is not supported in a VM" "$out"
[[ "$out" != *multi-prog-ran* ]] && pass "... and nothing ran outside the VM" ||
	fail "... and nothing ran outside the VM" "$out"

echo "== the job's files in the guest: shares and the node's identity"
runuser -u "$user" -- mkdir -p "$work/run1"
echo "hello from the host" | runuser -u "$user" -- tee "$work/run1/input.txt" >/dev/null
jid=$( (cd "$work/run1" && runuser -u "$user" -- sbatch --parsable --wait --vm-image=default \
	-o out-%j.txt --wrap 'cat input.txt >copy.txt; echo "pwd=$(pwd)"; echo "home=$HOME";
		[ -d "$HOME" ] && echo home-exists; echo "host=$(hostname)"; id -un;
		dd if=/dev/urandom of=big bs=1M count=100 2>/dev/null; sha256sum big | cut -d" " -f1') )
jid=${jid%%;*}
out=$(cat "$work/run1/out-$jid.txt" 2>/dev/null)
expect_eq "a job reads input.txt where it was submitted, and its copy is on the host" \
	"hello from the host" "$(cat "$work/run1/copy.txt" 2>/dev/null)"
expect_eq "... owned by the user" "$user" "$(stat -c %U "$work/run1/copy.txt" 2>/dev/null)"
expect_match "pwd in the guest is the host's cwd" "^pwd=$work/run1$" "$out"
expect_match "\$HOME is the user's, and exists" "^home=$home$" "$out"
expect_match "... exists" "^home-exists$" "$out"
expect_match "hostname in the guest is the node's name" "^host=$node$" "$out"
expect_match "the user exists by name in the guest" "^$user$" "$out"
expect_match "a 100 MB file written in the guest is on the host, intact" \
	"^$(sha256sum <"$work/run1/big" | cut -d' ' -f1)$" "$out"
expect_eq "... owned by the user" "$user" "$(stat -c %U "$work/run1/big" 2>/dev/null)"
cp "$conf" "$tmp/hyperion.conf.good"
sed -i "s|^shares = .*|shares = /home $tmp/missing-share|" "$conf" # allowed, absent here
jid=$(as_user sbatch --parsable --wait --vm-image=default --vm-shares="$tmp/missing-share" \
	-o "$work/missing-%j.txt" --wrap true)
jid=${jid%%;*}
cp "$tmp/hyperion.conf.good" "$conf"
expect_match "a share missing on the node fails the job, naming it" \
	"hyperion: .*$tmp/missing-share" "$(cat "$work/missing-$jid.txt" 2>/dev/null)"
expect_match "... and the node stays up, not drained" "^(idle|mixed|completing)" "$(node_state)"
out=$(as_user sbatch --vm-image=default --vm-shares=/etc --wrap true 2>&1)
expect_match "a share outside the allowlist is refused at submission, naming the allowed ones" \
	"/etc.*(allowed|shares).*/home" "$out"

echo "== errors"
before=$(squeue -h | wc -l)
out=$(as_user sbatch --vm-image=nope "$work/job.sh" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && pass "--vm-image=nope is refused at submission" || fail "--vm-image=nope is refused" "$out"
expect_match "... naming the valid images" "unknown image 'nope'.*default" "$out"
expect_eq "... and nothing is queued" "$before" "$(squeue -h | wc -l)"
jid=$(as_user sbatch --parsable --wait --vm-image=nokernel -o "$work/nokernel-%j.txt" "$work/job.sh")
jid=${jid%%;*}
expect_match "a missing kernel fails the job with a clear message" "hyperion: .*no-such-vmlinuz" \
	"$(cat "$work/nokernel-$jid.txt" 2>/dev/null)"
expect_match "... the job fails" "^[1-9]" "$(job_field "$jid" ExitCode)"
expect_match "... and the node stays up, not drained" "^(idle|mixed|allocated|completing)" "$(node_state)"
check "... and nothing is left" wait_nothing_left "$jid" 10

echo "== provisioning apart from run time"
jid=$(as_user sbatch --parsable --wait --vm-image=default --vm-verbose -o "$work/verbose-%j.txt" \
	--wrap true)
jid=${jid%%;*}
expect_match "--vm-verbose: the job's stderr says how long its VM took to boot" \
	"hyperion: VM of node $node ready in [0-9]+\.[0-9]+ s" "$(cat "$work/verbose-$jid.txt" 2>/dev/null)"
expect_match "... and slurmd's log records it for every VM job" \
	"hyperion: job $jid: VM hyperion-$node-$jid ready in [0-9]+ ms" \
	"$(grep "job $jid: VM" /run/hyperion-cluster/log/slurmd.log)"
jid=$(as_user sbatch --parsable --wait --vm-image=panic -o "$work/panic-%j.txt" --wrap true)
jid=${jid%%;*}
text=$(cat "$work/panic-$jid.txt" 2>/dev/null)
expect_match "a guest that cannot boot fails its job, saying where its console log is kept" \
	"console log kept in $tmp/consoles/$node-$jid-[0-9]+\.console\.log" "$text"
kept=$(printf '%s\n' "$text" | sed -n "s|.*console log kept in \($tmp/consoles/[^ )]*\)).*|\1|p" | head -n 1)
expect_match "... where it is, with the panic" "Kernel panic" "$(cat "$kept" 2>/dev/null)"
check "... and nothing else of the job is left" wait_nothing_left "$jid" 10
expect_match "... and the node stays up" "^(idle|mixed|completing)" "$(node_state)"

echo "== node features and the health check"
expect_match "sinfo shows the node's features" "hyperion,hyperion_tcg" "$(sinfo -h -n "$node" -o '%f')"
jid=$(as_user sbatch --parsable --hold --vm-image=default --export=NONE -o /dev/null --wrap true)
expect_eq "job_submit.lua steers a --vm-image job to hyperion nodes (--export=NONE too)" hyperion \
	"$(job_field "$jid" Features)"
scancel "$jid"
jid=$(as_user sbatch --parsable --hold -C hyperion_tcg --vm-image=default -o /dev/null --wrap true)
expect_eq "... keeping the user's own constraint" "(hyperion_tcg)&hyperion" "$(job_field "$jid" Features)"
scancel "$jid"
jid=$(as_user sbatch --parsable --hold -o /dev/null --wrap true)
expect_eq "... and leaves other jobs alone" "" "$(job_field "$jid" Features | sed 's/(null)//')"
scancel "$jid"
health() {
	SLURMD_NODENAME=$node HYPERION_CONFIG=$conf HYPERIONCTL=$build/tools/ctl/hyperionctl \
		"$top/tools/healthcheck/hyperion-healthcheck" >"$tmp/health.out" 2>&1
}
health
expect_eq "the health check passes on a ready node" 0 "$?"
"$top/scripts/libvirt-down" >/dev/null 2>&1
health
expect_eq "with libvirtd stopped, the health check fails" 1 "$?"
expect_match "... and drains the node with a reason an admin can read" "^hyperion: libvirt: " \
	"$(sinfo -R -h -n "$node" -o '%E')"
"$top/scripts/libvirt-up" >/dev/null 2>&1
health
expect_eq "libvirtd back: the health check passes" 0 "$?"
for _ in $(seq 30); do [[ $(node_state) =~ ^(idle|mixed)$ ]] && break; sleep 1; done
expect_match "... and resumes the node it drained" "^(idle|mixed)$" "$(node_state)"
scontrol update nodename="$node" state=drain reason="admin: maintenance"
health
expect_eq "an admin's own drain is left alone" "admin: maintenance" "$(sinfo -R -h -n "$node" -o '%E')"
scontrol update nodename="$node" state=resume

echo "== node fault: libvirtd unreachable"
cp "$conf" "$tmp/hyperion.conf.good"
echo "libvirt_uri = qemu+unix:///system?socket=$tmp/no-libvirtd.sock" >>"$conf"
jid=$(as_user sbatch --parsable --wait --vm-image=default -o "$work/fault-%j.txt" "$work/job.sh")
jid=${jid%%;*}
cp "$tmp/hyperion.conf.good" "$conf"
expect_match "the job fails and says why" "hyperion: .*connecting to libvirt" \
	"$(cat "$work/fault-$jid.txt" 2>/dev/null)"
expect_match "the node is drained with a reason an admin can read" "hyperion: libvirtd unreachable" \
	"$(sinfo -R -h -n "$node" -o '%E')"
scontrol update nodename="$node" state=resume
# the failed job may still be completing, and a restarted slurmd answering
for _ in $(seq 30); do [[ $(node_state) =~ ^(idle|mixed)$ ]] && break; sleep 1; done
expect_match "... and resumes" "^(idle|mixed)" "$(node_state)"

live_virtiofsd() { # this test's, not zombies: PID 1 here reaps orphans slowly
	local p n=0
	for p in $(pgrep -u "$user" virtiofsd); do
		grep -qxF "$p" <<<"$vfs_before" && continue
		[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] || n=$((n + 1))
	done
	echo "$n"
}
expect_eq "no virtiofsd of the user left after every job above (completed, cancelled, timed out, killed, failed)" \
	0 "$(live_virtiofsd)"

summary
