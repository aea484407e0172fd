#!/bin/bash
# Shares (virtio-fs) and the node's identity in the guest, on a real libvirtd
# with TCG guests: files written in the guest land on the host as the job
# user's; uid 0 in the guest reaches nothing the job user could not; cwd,
# $HOME, host name and `id` look like the node's; every virtiofsd is gone
# after stop, a failed start and reconciliation.
#
# usage: test-shares.sh BUILD_DIR APPLIANCE_DIR DISK_IMAGE
# Needs root, a running libvirtd (scripts/libvirt-up), a built appliance and
# /usr/lib/qemu/virtiofsd. Uses job ids 8000-8099 and its own state directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
disk=${3:?disk image}
ctl="$build/tools/ctl/hyperionctl"
exec_tool="$build/tools/exec/hyperion-exec"
virtiofsd=/usr/lib/qemu/virtiofsd
user1=hyptest1
user2=hyptest2
group=hyptestgrp
node=shares-n1
if [ ! -x "$virtiofsd" ]; then
	echo "SKIP $virtiofsd is not installed (apt-get install qemu-system-common)"
	summary
	exit 0
fi
ensure_user "$user1"
ensure_user "$user2"
# a supplementary group of user1's, for the directory only it can open
getent group "$group" >/dev/null || groupadd "$group"
id -nG "$user1" | grep -qw "$group" || usermod -aG "$group" "$user1"
home1=$(getent passwd "$user1" | cut -d: -f6)

tmp=$(mktemp -d /tmp/hyperion-shares-it.XXXXXX)
chmod 755 "$tmp"
state=/run/hyperion-shares-it
share=$tmp/share
conf="$tmp/hyperion.conf"
mkdir -p "$tmp/images.d" "$share/u1/run 1" "$share/u2" "$share/pub" "$share/grp" "$tmp/private"
chmod 755 "$share" "$share/pub" "$tmp/private"
chown -R "$user1:" "$share/u1"
chown "$user2:" "$share/u2"
echo "secret of $user2" >"$share/u2/secret" && chown "$user2:" "$share/u2/secret" && chmod 600 "$share/u2/secret"
echo "secret of root" >"$share/rootfile" && chmod 600 "$share/rootfile"
echo "only through $group" >"$share/grp/file"
chown -R "root:$group" "$share/grp" && chmod 770 "$share/grp" && chmod 640 "$share/grp/file"
echo "not shared" >"$tmp/private/file" && chmod 644 "$tmp/private/file"
ln -s ../private/file "$share/pub/relative-link"
ln -s "$tmp/private/file" "$share/pub/absolute-link"
echo "input of $user1" >"$share/u1/run 1/input.txt" && chown "$user1:" "$share/u1/run 1/input.txt"

cat >"$conf" <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $state
vmm_reserve_mb = 64
boot_timeout = 90
images = $tmp/images.d
shares = $share $home1
virtiofsd = $virtiofsd
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
CONF
sed "s|^virtiofsd = .*|virtiofsd = $tmp/no-such-virtiofsd|" "$conf" >"$tmp/bad-virtiofsd.conf"
sed "s|^virtiofsd = .*|virtiofsd = /bin/false|" "$conf" >"$tmp/failing-virtiofsd.conf"

jobs=(8000 8001 8002 8003 8004 8005)
cleanup() {
	for j in "${jobs[@]}"; do "$ctl" -c "$conf" stop --node "$node" --job "$j" >/dev/null 2>&1; done
	rm -rf "$tmp" "$home1/.hyperion-shares-test"
}
trap cleanup EXIT

hctl() { "$ctl" -c "$conf" "$@"; }
start() { hctl start --node "$node" --user "$user1" --cpus 0-1 --memory 512 "$@"; }
# hx JOB ARGS...: hyperion-exec as user1 from the current directory
hx() { local j=$1; shift; runuser -u "$user1" -- "$exec_tool" --config "$conf" --node "$node" --job "$j" "$@"; }
# as_root JOB COMMAND: uid 0 in the guest, asked for by the job user with a
# client of their own (guest-root.py speaks the protocol on their socket)
as_root() { runuser -u "$user1" -- python3 "$here/guest-root.py" "$state/$node/job.$1" "$2"; }
# virtiofsds of user1 that still run, one process group each (it forks into
# its pid namespace); zombies are init's to reap
live_virtiofsd() {
	ps -u "$user1" -o stat=,pgid=,comm= | awk '$1 !~ /^Z/ && $3 == "virtiofsd" { print $2 }' |
		sort -u | wc -l
}
# any process at all named virtiofsd, of anyone, still running
any_virtiofsd() { ps -e -o stat=,comm= | awk '$1 !~ /^Z/ && $2 == "virtiofsd"' | wc -l; }
nothing_left() {
	! virsh -c qemu:///system list --all --name | grep -x "hyperion-$node-$1" >/dev/null &&
		[ ! -e "$state/$node/job.$1" ] && [ ! -e "$state/$node/job.$1.res" ]
}

echo "== start with shares"
out=$(start --job 8000 --image default 2>&1)
expect_eq "start succeeds" 0 "$?"
echo "     ($out)"
expect_eq "one virtiofsd per share, as $user1" 2 "$(live_virtiofsd)"
expect_eq "no virtiofsd runs as root" "" "$(ps -u root -o comm= | grep -x virtiofsd)"
expect_eq "the socket is the job user's, 0600" "$user1 600" "$(stat -c '%U %a' "$state/$node/job.8000/fs.0.sock")"

echo "== files through the share, as $user1"
cd "$share/u1/run 1" || exit 1
expect_eq "pwd in the guest is the host's cwd in a share" "$share/u1/run 1" "$(hx 8000 -- pwd 2>&1)"
expect_eq "reads input.txt there" "input of $user1" "$(hx 8000 -- cat input.txt 2>&1)"
hx 8000 -- sh -c 'echo "result" >out.txt'
expect_eq "out.txt appears on the host" "result" "$(cat out.txt 2>&1)"
expect_eq "... owned by $user1" "$user1 $user1" "$(stat -c '%U %G' out.txt)"
head -c 100M /dev/urandom >"$tmp/big" && chmod 644 "$tmp/big"
want=$(sha256sum <"$tmp/big" | cut -d' ' -f1)
hx 8000 -- sh -c 'cat >big.bin' <"$tmp/big"
expect_eq "a 100 MB file written in the guest has the same checksum on the host" "$want" \
	"$(sha256sum <big.bin | cut -d' ' -f1)"
expect_eq "... and read back in the guest" "$want" "$(hx 8000 -- sha256sum big.bin | cut -d' ' -f1)"
expect_eq "... owned by $user1" "$user1" "$(stat -c %U big.bin)"
rm -f big.bin
cd /var || exit 1
hx 8000 -- pwd >"$tmp/out" 2>"$tmp/err"
expect_eq "a cwd outside the shares runs in /" "/" "$(cat "$tmp/out")"
expect_eq "... with one warning line on stderr" 1 "$(wc -l <"$tmp/err")"
expect_match "... naming the cwd and the shares" "'/var' is not shared.*shares: $share $home1" "$(cat "$tmp/err")"
cd "$share/u1" || exit 1
expect_eq "\$HOME exists in the guest when it is in a share" "yes" "$(hx 8000 -- sh -c 'test -d "$HOME" && echo yes')"
hx 8000 -- sh -c 'echo home >"$HOME/.hyperion-shares-test"'
expect_eq "... and is the host's" "home" "$(cat "$home1/.hyperion-shares-test" 2>&1)"

echo "== the node's identity"
expect_eq "hostname is the node name" "$node" "$(hx 8000 -- hostname)"
# doc/network.md: on its job address when the guest has a NIC, else 127.0.1.1
expect_match "/etc/hosts resolves it" "^(127\.0\.1\.1|10\.[0-9]+\.0\.[0-9]+)[[:space:]]+$node\$" \
	"$(hx 8000 -- cat /etc/hosts)"
expect_eq "id prints names, as on the host" "$(runuser -u "$user1" -- id)" "$(hx 8000 -- id)"

echo "== what the share does not give"
out=$(hx 8000 -- cat "$share/grp/file" 2>&1)
expect_match "a directory open only to a supplementary group is refused (EACCES, see the admin guide)" \
	"Permission denied" "$out"
expect_eq "... though $user1 reads it on the host" "only through $group" "$(runuser -u "$user1" -- cat "$share/grp/file")"
out=$(hx 8000 -- cat "$share/pub/relative-link" "$share/pub/absolute-link" "$tmp/private/file" 2>&1)
expect_eq "symbolic links and paths out of the share reach nothing of the host" 3 \
	"$(grep -c 'No such file' <<<"$out")"

echo "== uid 0 in the guest"
expect_eq "the job user's own client gets uid 0 in the guest" "0" "$(as_root 8000 'id -u')"
out=$(hctl exec --node "$node" --job 8000 --user root -- cat "$share/rootfile" 2>&1)
expect_match "... as does the admin's hyperionctl exec --user root, and cannot read a root-owned 0600 file" \
	"Permission denied" "$out"
touch "$tmp/marker"
out=$(as_root 8000 "cat $share/rootfile" 2>&1)
expect_match "root cannot read a root-owned 0600 file in a share" "Permission denied" "$out"
out=$(as_root 8000 "cat $share/u2/secret" 2>&1)
expect_match "root cannot read $user2's 0600 file" "Permission denied" "$out"
as_root 8000 "echo x >$share/pub/by-root; echo x >$share/u1/by-root; mkdir $share/u1/dir-by-root" >/dev/null 2>&1
expect_eq "root creates nothing on the host that is root's" "" "$(find "$share" -newer "$tmp/marker" -user root)"
expect_eq "... nor anything at all" "" "$(find "$share" -newer "$tmp/marker" -name '*by-root*')"
out=$(as_root 8000 "ls $tmp/private; cat $share/../private/file; cat $share/pub/absolute-link" 2>&1)
expect_eq "root reaches no host directory that is not shared" 3 "$(grep -c 'No such file' <<<"$out")"
out=$(as_root 8000 "chmod 666 $share/u2/secret; chown 0 $share/u1/out.txt" 2>&1)
expect_eq "root changes no owner or mode of another's file" "$user2 600 $user1" \
	"$(stat -c '%U %a' "$share/u2/secret") $(stat -c %U "$share/u1/run 1/out.txt")"

echo "== --shares narrows, and a disk image mounts them too"
out=$(start --job 8001 --image disk --shares "$share/u1" 2>&1)
expect_eq "a disk image with one share starts" 0 "$?"
expect_eq "... one virtiofsd more" 3 "$(live_virtiofsd)"
expect_match "... mounted at its path" "^hypfs0 $share/u1 virtiofs" "$(hx 8001 -- cat /proc/mounts 2>&1)"
expect_eq "... the rest of the share is not there" "no" "$(hx 8001 -- sh -c "test -e $share/pub && echo yes || echo no" 2>/dev/null)"
expect_eq "... hostname" "$node" "$(hx 8001 -- hostname 2>/dev/null)"
out=$(start --job 8002 --image default --shares /etc 2>&1)
expect_match "a share outside the allowlist is refused, naming the allowed ones" \
	"share '/etc' is not allowed on this site \(allowed: $share $home1\)" "$out"

echo "== stop"
hctl stop --node "$node" --job 8000 >/dev/null
hctl stop --node "$node" --job 8001 >/dev/null
expect_eq "no virtiofsd of $user1 after stop" 0 "$(live_virtiofsd)"
check "nothing left of job 8000" nothing_left 8000

echo "== failed starts leave nothing"
out=$(start --job 8003 --image default --shares "$share/missing" 2>&1)
rc=$?
expect_eq "a share missing on the node fails the start" 1 "$rc"
expect_match "... naming the share and the cause" "share '$share/missing': not found on node $node" "$out"
expect_eq "... no virtiofsd left" 0 "$(live_virtiofsd)"
check "... nothing left" nothing_left 8003
out=$("$ctl" -c "$tmp/bad-virtiofsd.conf" start --node "$node" --job 8003 --user "$user1" --cpus 0-1 --memory 512 --image default 2>&1)
expect_match "a bad virtiofsd path fails the start, naming it" "shares need $tmp/no-such-virtiofsd" "$out"
check "... nothing left" nothing_left 8003
out=$("$ctl" -c "$tmp/failing-virtiofsd.conf" start --node "$node" --job 8003 --user "$user1" --cpus 0-1 --memory 512 --image default 2>&1)
expect_match "a virtiofsd that exits fails the start, naming the share" "share '$share': virtiofsd exited with status 1" "$out"
expect_eq "... no virtiofsd left" 0 "$(live_virtiofsd)"
check "... nothing left" nothing_left 8003

echo "== reconciliation"
start --job 8004 --image default >/dev/null 2>&1
expect_eq "a job's virtiofsds run" 2 "$(live_virtiofsd)"
out=$(hctl reap --node "$node" --local 2>&1)
expect_match "reap --local releases the dead job's virtiofsd" "released process" "$out"
expect_eq "... none left" 0 "$(live_virtiofsd)"
check "... nothing left" nothing_left 8004

summary
