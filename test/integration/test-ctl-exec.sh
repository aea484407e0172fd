#!/bin/bash
# hyperionctl exec, run by root against a real TCG guest: nothing of root's
# reaches the job user's side (environment, fds, terminal), the user side
# has a terminal of its own, and the guest's ERROR text reaches the admin's
# terminal without its escape sequences.
#
# usage: test-ctl-exec.sh BUILD_DIR APPLIANCE_DIR DISK_IMAGE
# Needs root, a running libvirtd (scripts/libvirt-up), a built appliance and
# python3 (for a pseudo-terminal); reports itself skipped otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
: "${3:?disk image}" # not used: the appliance is enough here
ctl="$build/tools/ctl/hyperionctl"
skip() { echo "SKIP test-ctl-exec: $*"; summary; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v python3 >/dev/null || skip "needs python3"
virsh -c qemu:///system list >/dev/null 2>&1 || skip "libvirtd is not running (scripts/libvirt-up)"
[ -f "$appliance/vmlinuz" ] || skip "no appliance in $appliance"

user1=hyptest1
user2=hyptest2
ensure_user "$user1"
ensure_user "$user2"
job=7200
state=/run/hyperion-ctl-exec-it
secret=s3cr3t-$$
tmp=$(mktemp -d /tmp/hyperion-ctl-exec.XXXXXX)
chmod 755 "$tmp"
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
cat >"$tmp/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $appliance/vmlinuz
initrd = $appliance/initrd.img
CONF

bg=() # pids started in the background, killed at the end if still there
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$ctl" -c "$conf" stop --job "$job" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

hctl() { "$ctl" -c "$conf" "$@"; }
# hx ARGS...: hyperionctl exec into the job, as root, with a secret of root's.
hx() { HYP_SECRET=$secret hctl exec --job "$job" -- "$@"; }
# on_pty OUTPUT ARGS...: hx on a terminal of its own (an admin's terminal).
on_pty() { local o=$1; shift; HYP_SECRET=$secret python3 "$here/pty-run.py" "$o" "$ctl" -c "$conf" exec --job "$job" -- "$@"; }
child_of() { local k; k=$(cat "/proc/$1/task/$1/children" 2>/dev/null); echo "${k%% *}"; }
stat_field() { sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f"$(($2 - 2))"; }
has_esc() { grep -q $'\033' "$1"; }
fd_links() { local f; for f in "/proc/$1/fd/"*; do readlink "$f"; done 2>/dev/null; }
# expect_ne NAME UNWANTED ACTUAL
expect_ne() { if [ "$2" != "$3" ]; then pass "$1"; else fail "$1" "got $3"; fi; }

echo "== start"
check "start job $job's VM" hctl start --job "$job" --user "$user1" --cpus 0 --memory 384 --image default

echo "== environment"
out=$(hx env </dev/null 2>&1)
expect_match "the guest command ran as the job user" "^USER=$user1$" "$out"
expect_match "... with HOME from the passwd entry" "^HOME=$(getent passwd "$user1" | cut -d: -f6)$" "$out"
if printf '%s' "$out" | grep -q "$secret"; then fail "root's secret is not in the guest's environment" "$out"; else pass "root's secret is not in the guest's environment"; fi
if printf '%s' "$out" | grep -q '^HYP_SECRET='; then fail "... nor its name"; else pass "... nor its name"; fi

echo "== the job user's process on the host"
# not through on_pty: $! must be python itself
HYP_SECRET=$secret python3 "$here/pty-run.py" "$tmp/pty.out" "$ctl" -c "$conf" exec --job "$job" -- sleep 60 &
py=$!
bg+=("$py")
ctl_pid='' hx_pid='' up=''
for _ in $(seq 1 300); do
	ctl_pid=$(child_of "$py") # hyperionctl, root, on the admin's terminal
	hx_pid=$ctl_pid           # hyperion-exec: it, or a child of it
	while [ -n "$hx_pid" ] && [ "$(cat "/proc/$hx_pid/comm" 2>/dev/null)" != hyperion-exec ]; do
		hx_pid=$(child_of "$hx_pid")
	done
	# the session is up once hyperion-exec holds its socket
	if [ -n "$hx_pid" ] && fd_links "$hx_pid" | grep '^socket:' >/dev/null; then
		up=1
		break
	fi
	sleep 0.1
done
if [ -z "$up" ]; then
	fail "hyperion-exec runs under hyperionctl exec" "$(cat "$tmp/pty.out")"
else
	expect_eq "hyperion-exec runs as the job user" "$(id -u $user1)" "$(stat -c %u "/proc/$hx_pid")"
	admin_tty=$(readlink "/proc/$ctl_pid/fd/0")
	expect_match "root's stdin is the admin's terminal" "^/dev/pts/" "$admin_tty"
	environ=$(runuser -u "$user1" -- cat "/proc/$hx_pid/environ" | tr '\0' '\n')
	expect_match "the job user can read its environment" "^USER=$user1$" "$environ"
	if printf '%s' "$environ" | grep -q "$secret"; then fail "... which lacks root's secret" "$environ"; else pass "... which lacks root's secret"; fi
	fds=$(runuser -u "$user1" -- ls -l "/proc/$hx_pid/fd/" | sed -n 's/.* -> //p')
	if printf '%s\n' "$fds" | grep -qxF "$admin_tty"; then fail "no fd of it refers to the admin's terminal" "$fds"; else pass "no fd of it refers to the admin's terminal"; fi
	own_tty=$(readlink "/proc/$hx_pid/fd/0")
	expect_match "its stdin is a terminal of its own" "^/dev/pts/" "$own_tty"
	expect_ne "... not the admin's" "$admin_tty" "$own_tty"
	if printf '%s\n' "$fds" | grep -Eqx '/dev/(ptmx|tty|console)'; then fail "no pty master, /dev/tty or console either" "$fds"; else pass "no pty master, /dev/tty or console either"; fi
	nfds=$(printf '%s\n' "$fds" | grep -cv -e '^/dev/pts/' -e '^socket:' -e 'exec\.[0-9]*\.lock$' -e 'signalfd')
	expect_eq "nothing else inherited from root (only its pty, socket, lock, signalfd)" 0 "$nfds"
	expect_ne "it has a session of its own" "$(stat_field "$ctl_pid" 6)" "$(stat_field "$hx_pid" 6)"
	expect_ne "... whose controlling terminal is not root's" \
		"$(stat_field "$ctl_pid" 7)" "$(stat_field "$hx_pid" 7)"
	kill -TERM "$ctl_pid" # root forwards it; the guest's sleep dies of it
fi
wait "$py"
expect_eq "SIGTERM to hyperionctl ends the guest command; it dies of SIGTERM" 143 "$?"
bg=()

echo "== a terminal of its own, relayed"
on_pty "$tmp/tty.out" tty
expect_match "the guest command runs on a terminal" "^/dev/pts/[0-9]+" "$(tr -d '\r' <"$tmp/tty.out")"
PTY_INPUT='typed on the admin terminal\n\x04' PTY_DELAY=3 on_pty "$tmp/cat.out" cat
expect_eq "what the admin types reaches the guest command; ^D ends it" 0 "$?"
expect_match "... and its output comes back" "typed on the admin terminal" "$(cat "$tmp/cat.out")"

echo "== without a terminal"
expect_eq "stdin and stdout pipes" "through pipes" "$(echo 'through pipes' | hx cat)"
hx sh -c 'exit 42' </dev/null
expect_eq "the exit status comes back" 42 "$?"
hx sh -c 'kill -KILL $$' </dev/null
expect_eq "killed by SIGKILL in the guest: hyperionctl dies of it" 137 "$?"

echo "== the guest's ERROR text"
hx $'no-such-\033[31mcommand\033]0;owned\007' </dev/null >"$tmp/err.out" 2>&1
rc=$?
expect_eq "a command the guest does not have: 127" 127 "$rc"
expect_match "the ERROR is printed" "exec 'no-such-.*command.*': No such file or directory" "$(cat "$tmp/err.out")"
expect_match "... with its escape sequences shown as \\xNN" 'no-such-\\x1b\[31mcommand\\x1b\]0;owned\\x07' "$(cat "$tmp/err.out")"
has_esc "$tmp/err.out" && fail "... and no ESC byte written" "$(cat -A "$tmp/err.out")" || pass "... and no ESC byte written"
on_pty "$tmp/err-pty.out" $'no-such-\033[2Jcommand'
expect_match "on a terminal too" 'no-such-\\x1b\[2Jcommand' "$(cat "$tmp/err-pty.out")"
has_esc "$tmp/err-pty.out" && fail "... without an ESC byte" "$(cat -A "$tmp/err-pty.out")" || pass "... without an ESC byte"

echo "== another user"
out=$(hctl exec --job "$job" --user "$user2" -- true 2>&1 </dev/null)
expect_match "another user is refused" "ermission denied" "$out"

echo "== stop"
check "stop job $job" hctl stop --job "$job"
summary
