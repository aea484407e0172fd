#!/bin/bash
# Debian guest images and user-supplied images (doc/images.md), on a real
# libvirtd with TCG guests, then through Slurm as the non-root hyptest1:
#  - scripts/build-image builds both start modes (cached: a second run
#    reuses the image); both boot, the systemd one with systemd as PID 1;
#  - --from-manifest rebuilds debian-12 with the same package versions, and
#    refuses an agent that is not the manifest's;
#  - with an agent that has the guest Slurm commands, srun is a link to it
#    in the guest (skipped before they are merged);
#  - the guest CPU has the x86-64-v2 flags under TCG (<cpu mode='maximum'>);
#  - an image without the agent fails with the boot-timeout message naming
#    the agent and the last console lines;
#  - a #!/bin/bash batch script runs in Debian: Debian's python3, id is the
#    job user, input read from the submit directory (a share);
#  - refused at submission with the reason and nothing queued or left: too
#    little memory for the image, a group-restricted image for others, user
#    images with a backing file, an external data file, another user's 0600
#    raw file, a directory, a FIFO, and any path with user_images = no;
#  - a valid qcow2 of the user's own boots.
#
# usage: test-images.sh BUILD_DIR [IMAGES_DIR]
# Needs root, network access to the Debian mirror through apt for the first
# build (about 70 s per image on 2 cores, then cached in IMAGES_DIR, default
# /var/lib/hyperion/images), a running libvirtd or scripts/libvirt-up.
# Starts and stops the Slurm cluster (run it under
# flock /run/hyperion-slurm.lock when others share the machine).
# Uses job ids 7200-7299 for VMs started without Slurm. Takes about 2 min
# with cached images (measured), plus about 2.5 min when it builds them,
# plus 55-70 s for the rebuild from the manifest (measured).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
images=${2:-/var/lib/hyperion/images}
ctl="$build/tools/ctl/hyperionctl"
exec_tool="$build/tools/exec/hyperion-exec"
user=hyptest1
other=hyptest2
group=hyptestgrp
node=$(hostname -s)
ensure_user "$user"
ensure_user "$other"
getent group "$group" >/dev/null || groupadd "$group"
id -nG "$user" | grep -qw "$group" || usermod -aG "$group" "$user"

echo "== build-image (both start modes, cached)"
for mode in agent systemd; do
	name=debian-12$([ "$mode" = systemd ] && echo -systemd)
	t0=$(date +%s)
	if ! out=$("$top/scripts/build-image" --init="$mode" --agent "$build/agent/hyperion-agent" \
		--output "$images/$name" 2>&1); then
		fail "build-image --init=$mode" "$(tail -n 20 <<<"$out")"
		summary
		exit 1
	fi
	pass "build-image --init=$mode ($(($(date +%s) - t0)) s: $(tail -n 1 <<<"$out"))"
done
out=$("$top/scripts/build-image" --agent "$build/agent/hyperion-agent" --output "$images/debian-12" 2>&1)
expect_match "a second build reuses the image" "image up to date" "$out"
deb=$images/debian-12
expect_match "the manifest lists package versions" "^package python3 3\.11" "$(cat "$deb/manifest")"
expect_match "... and the catalog entry is written next to the image" "^\[image debian-12\]" \
	"$(cat "$deb/image.conf")"

echo "== build-image --from-manifest (reproducible from its manifest)"
again=$(mktemp -d /var/tmp/hyperion-images-it-again.XXXXXX)
cp "$build/agent/hyperion-agent" "$again/other-agent" && echo >>"$again/other-agent"
out=$("$top/scripts/build-image" --from-manifest "$deb/manifest" --agent "$again/other-agent" \
	--output "$again/img" 2>&1) && fail "another agent than the manifest's: accepted" "$out"
expect_match "another agent than the manifest's is refused" "is not the manifest's \(sha256 " "$out"
t0=$(date +%s)
out=$("$top/scripts/build-image" --from-manifest "$deb/manifest" --agent "$build/agent/hyperion-agent" \
	--output "$again/img" 2>&1) || fail "build-image --from-manifest" "$(tail -n 20 <<<"$out")"
expect_eq "--from-manifest: the same package versions ($(($(date +%s) - t0)) s)" \
	"$(grep '^package ' "$deb/manifest")" "$(grep '^package ' "$again/img/manifest" 2>&1)"
expect_eq "... the same init mode and modules" "$(grep -E '^input (init|modules) ' "$deb/manifest")" \
	"$(grep -E '^input (init|modules) ' "$again/img/manifest" 2>&1)"
rm -rf "$again"

tmp=$(mktemp -d /tmp/hyperion-images-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-images-it
conf=$tmp/hyperion.conf
mkdir -p "$tmp/images.d"
cat >"$conf" <<CONF
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 90
images = $tmp/images.d
shares = /home
user_images = yes
user_image_boot = debian-12
console_keep_dir = $tmp/consoles
CONF
cat "$deb/image.conf" "$images/debian-12-systemd/image.conf" >"$tmp/images.d/debian.conf"
cat >>"$tmp/images.d/debian.conf" <<CONF

[image restricted]
kind = disk
kernel = $deb/vmlinuz
initrd = $deb/initrd.img
disk = $deb/disk.qcow2
cmdline = root=/dev/vda rw
groups = $group

# Debian without the agent: bash is PID 1 and nothing answers
[image noagent]
kind = disk
kernel = $deb/vmlinuz
initrd = $deb/initrd.img
disk = $deb/disk.qcow2
cmdline = root=/dev/vda ro init=/bin/bash
CONF
sed 's/^boot_timeout = .*/boot_timeout = 25/' "$conf" >"$tmp/short.conf"

home=$(getent passwd "$user" | cut -d: -f6)
work=$home/hyperion-images-it
rm -rf "$work"
runuser -u "$user" -- mkdir -p "$work"
cleanup() {
	for j in 7200 7201 7202; do
		"$ctl" -c "$conf" stop --node "$node" --job "$j" >/dev/null 2>&1
	done
	[ -n "${cluster:-}" ] && "$top/scripts/cluster-down" >/dev/null 2>&1
	rm -rf "$tmp" "$work"
	rmdir "$state/$node" "$state" 2>/dev/null
}
trap cleanup EXIT

hx() { local j=$1; shift; (cd "$work" && runuser -u "$user" -- "$exec_tool" --config "$conf" --node "$node" --job "$j" "$@"); }
start() { "$ctl" -c "${CONF:-$conf}" start --node "$node" --user "$user" --cpus 0 --memory 768 "$@" 2>&1; }

echo "== both start modes boot (hyperionctl, TCG)"
out=$(start --job 7200 --image debian-12)
expect_match "--init=agent boots to the agent" "ready in" "$out"
expect_eq "... the agent is PID 1 (/sbin/init)" "init /usr/libexec/hyperion/hyperion-agent" \
	"$(hx 7200 -- sh -c 'echo $(cat /proc/1/comm) $(readlink -f /sbin/init)' 2>&1)"
expect_match "... python3 is Debian's" "^3\.11\." "$(hx 7200 -- python3 -c 'import sys; print(sys.version)' 2>&1)"
if grep -qa HYPERION_SESSION "$build/agent/hyperion-agent"; then
	expect_eq "... srun is the guest command, a link to the agent" \
		"/usr/local/bin/srun /usr/libexec/hyperion/hyperion-agent" \
		"$(hx 7200 -- sh -c 'echo $(command -v srun) $(readlink -f /usr/local/bin/srun)' 2>&1)"
else
	echo "SKIP guest srun: this agent has no guest Slurm commands (branch wip-stream)"
fi
flags=$(hx 7200 -- sh -c "grep -m1 '^flags' /proc/cpuinfo" 2>&1)
missing=""
for f in cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3; do grep -qw "$f" <<<"$flags" || missing+=" $f"; done
expect_eq "the guest CPU has the x86-64-v2 flags under TCG" "" "$missing"
# doc/network.md: job J's node at position 0 is 10.<J mod 256>.0.1/16
expect_eq "... its NIC has the job's address (configured by the agent as PID 1)" \
	"10.$((7200 % 256)).0.1/16" "$(hx 7200 -- sh -c "ip -o -4 addr show | awk '\$2 != \"lo\" {print \$4}'" 2>&1)"
"$ctl" -c "$conf" stop --node "$node" --job 7200 >/dev/null 2>&1
t0=$(date +%s)
out=$(start --job 7201 --image debian-12-systemd)
expect_match "--init=systemd boots to the agent ($(($(date +%s) - t0)) s)" "ready in" "$out"
expect_eq "... systemd is PID 1" "systemd" "$(hx 7201 -- cat /proc/1/comm 2>&1)"
expect_eq "... id is the job user's" "$(id -u "$user") $user" "$(hx 7201 -- sh -c 'echo $(id -u) $(id -un)' 2>&1)"
expect_eq "... its NIC has the job's address (configured by the agent as a service)" \
	"10.$((7201 % 256)).0.1/16" "$(hx 7201 -- sh -c "ip -o -4 addr show | awk '\$2 != \"lo\" {print \$4}'" 2>&1)"
"$ctl" -c "$conf" stop --node "$node" --job 7201 >/dev/null 2>&1

echo "== an image without the agent"
out=$(CONF=$tmp/short.conf start --job 7202 --image noagent)
expect_match "start fails: the agent did not come up" "agent did not come up within 25 s" "$out"
expect_match "... and the last console lines are shown" "last console lines" "$out"
expect_eq "... and nothing is left" "" "$(virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-7202")"

echo "== Slurm"
if ! "$top/scripts/cluster-up" --plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$conf" \
	--exec "$build/tools/exec/hyperion-exec" --no-check >"$tmp/cluster-up.log" 2>&1; then
	fail "cluster-up" "$(tail -n 20 "$tmp/cluster-up.log")"
	summary
	exit 1
fi
cluster=1
pass "cluster up with the plugin"
as_user() { (cd "$work" && runuser -u "$user" -- "$@"); }
as_other() { (cd /tmp && runuser -u "$other" -- "$@"); }
njobs() { scontrol show job -o 2>/dev/null | grep -c JobId=; }
state_list() { ls -A "$state/$node" 2>/dev/null; }

echo "input from the submit dir" >"$work/input.txt" && chown "$user:" "$work/input.txt"
cat >"$work/job.sh" <<'JOB'
#!/bin/bash
#SBATCH --mem=512
set -e
echo "bash=${BASH_VERSION%%(*}"
python3 -c 'import sys, platform; print("python=" + sys.version.split()[0], platform.freedesktop_os_release()["ID"])'
echo "id=$(id -un) $(id -u)"
echo "input=$(cat input.txt)"
JOB
chmod 755 "$work/job.sh" && chown "$user:" "$work/job.sh"
jid=$(as_user sbatch --parsable --wait --vm-image=debian-12 -o "$work/out-%j.txt" job.sh 2>&1)
text=$(cat "$work/out-${jid%%;*}.txt" 2>/dev/null)
expect_match "a #!/bin/bash batch script runs in the Debian image" "^bash=5\.2" "$text"
expect_match "... python3 prints Debian's Python" "^python=3\.11\.[0-9]+ debian$" "$text"
expect_match "... id shows the job user" "^id=$user $(id -u "$user")$" "$text"
expect_match "... and it reads its input from the submit directory" "^input=input from the submit dir$" "$text"

# refused NAME REGEX CMD...: fails at submission with REGEX, queues nothing
# and leaves nothing on the node
refused() {
	local name=$1 re=$2 before files out
	shift 2
	before=$(njobs) files=$(state_list)
	out=$("$@" 2>&1) && { fail "$name: accepted" "$out"; return; }
	expect_match "$name: refused at submission" "$re" "$out"
	expect_eq "... nothing queued" "$before" "$(njobs)"
	expect_eq "... nothing left on the node" "$files" "$(state_list)"
}
refused "--mem=20 for debian-12 (min_memory 256)" \
	"needs at least 256 MB of guest memory: 20 MB asked, minus 64 MB for the VMM, leaves 0 MB: ask for at least --mem=320M" \
	as_user srun --vm-image=debian-12 --mem=20 true
printf '#!/bin/bash\n#SBATCH --mem=300\ntrue\n' >"$work/small.sh" && chown "$user:" "$work/small.sh"
refused "--mem=300 for debian-12 in an #SBATCH line" "300 MB asked" \
	as_user sbatch --vm-image=debian-12 small.sh
refused "an image restricted to group $group, for $other" \
	"image 'restricted' is restricted to groups $group \(you are $other\)" \
	as_other srun --vm-image=restricted --mem=512 true

echo "== user images"
ucp() { runuser -u "$user" -- "$@"; }
ucp cp "$deb/disk.qcow2" "$work/mine.qcow2"
ucp qemu-img create -q -f qcow2 -F qcow2 -b "$work/mine.qcow2" "$work/backed.qcow2"
ucp qemu-img create -q -f qcow2 -o data_file="$work/data.raw" "$work/datafile.qcow2" 64M
runuser -u "$other" -- qemu-img create -q -f raw /tmp/hyperion-images-it-other.raw 64M
chmod 600 /tmp/hyperion-images-it-other.raw
ucp mkdir "$work/adir"
ucp mkfifo "$work/afifo"
refused "a qcow2 with a backing file" "backing file is not allowed" \
	as_user srun --vm-image="$work/backed.qcow2" --mem=512 true
refused "a qcow2 with an external data file" "external data file is not allowed" \
	as_user srun --vm-image="$work/datafile.qcow2" --mem=512 true
refused "a raw file of $other's, mode 0600" "Permission denied" \
	as_user srun --vm-image=/tmp/hyperion-images-it-other.raw --mem=512 true
refused "a directory" "a directory, not an image file" \
	as_user srun --vm-image="$work/adir" --mem=512 true
refused "a FIFO" "a FIFO, not an image file" \
	as_user timeout 20 srun --vm-image="$work/afifo" --mem=512 true
refused "an nbd: name" "':' is not allowed|not an absolute path" \
	as_user srun --vm-image=nbd:localhost:10809 --mem=512 true
rm -f /tmp/hyperion-images-it-other.raw
sum=$(sha256sum <"$work/mine.qcow2")
out=$(as_user srun --vm-image="$work/mine.qcow2" --mem=512 sh -c 'id -un; python3 -V' 2>&1)
expect_match "a valid qcow2 of the user's own boots" "^$user$" "$out"
expect_match "... and runs Debian's python3" "^Python 3\.11" "$out"
expect_eq "... and the base is never written" "$sum" "$(sha256sum <"$work/mine.qcow2")"
sed -i 's/^user_images = yes/user_images = no/' "$conf"
refused "user_images = no: a path" "does not allow user-supplied images \(user_images = no\)" \
	as_user srun --vm-image="$work/mine.qcow2" --mem=512 true

summary
