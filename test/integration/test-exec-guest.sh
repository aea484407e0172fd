#!/bin/bash
# hyperion-exec against a hostile guest, without a VM: a fake agent on the
# job's exec socket (test/integration/fake-agent.py) reports what a real
# one never would. A command "killed" by a signal that cannot kill
# (SIGSTOP, SIGTSTP, SIGCHLD...) makes hyperion-exec exit 128+N instead of
# stopping while it holds its port; the guest's ERROR text reaches the
# terminal without escape sequences, in a session and before one.
#
# usage: test-exec-guest.sh BUILD_DIR [APPLIANCE_DIR DISK_IMAGE]  (the others unused)
# Ends with "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
exec </dev/null

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
node=$(hostname -s)

build=$(cd "${1:-build}" && pwd)
exec_tool="$build/tools/exec/hyperion-exec"
if ! command -v python3 >/dev/null || [ ! -x "$exec_tool" ]; then
	echo "SKIP test-exec-guest: needs python3 and $exec_tool"
	summary
	exit 0
fi

tmp=$(mktemp -d /tmp/hyperion-exec-guest.XXXXXX)
state="$tmp/state"
job=7201
sock="$state/$node/job.$job/exec.0.sock"
mkdir -p "$state/$node/job.$job"
install -m 600 /dev/null "$state/$node/job.$job/exec.0.lock"
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# guest MODE [ARG]: a fake agent for the next session.
guest() {
	rm -f "$sock"
	python3 "$here/fake-agent.py" "$sock" "$@" &
	agent_pid=$!
	for _ in $(seq 1 100); do [ -S "$sock" ] && return; sleep 0.05; done
	echo "the fake agent did not start" >&2
}
# hx: hyperion-exec, killed if still there after 10 s (a stopped one is).
hx() {
	timeout -s KILL 10 "$exec_tool" --state-dir "$state" --job "$job" --timeout 10 "$@"
}
done_guest() { wait "$agent_pid" 2>/dev/null; agent_pid=; }

echo "== a signal that cannot kill"
for sig in STOP TSTP TTIN TTOU CHLD CONT URG WINCH; do
	n=$(kill -l "$sig")
	guest exit-signal "$n"
	hx -- true 2>/dev/null
	expect_eq "\"killed by SIG$sig\": exits $((128 + n)), does not stop" $((128 + n)) "$?"
	done_guest
done
guest exit-signal 15
hx -- true 2>/dev/null
expect_eq "\"killed by SIGTERM\": dies of SIGTERM" 143 "$?"
done_guest

echo "== the guest's ERROR text"
guest error 'exec \033[2J\033]0;owned\007\x9b31m\xc2\x9bH: No such file or directory'
hx -- true 2>"$tmp/err"
expect_eq "ERROR then EXIT 127: exits 127" 127 "$?"
expect_match "the message comes with its escapes shown" \
	'^hyperion-exec: exec \\x1b\[2J\\x1b\]0;owned\\x07\\x9b31m\\xc2\\x9bH: No such file' "$(cat "$tmp/err")"
if grep -q $'[\001-\010\013-\037\177]' "$tmp/err"; then fail "... and no control byte" "$(cat -A "$tmp/err")"; else pass "... and no control byte"; fi
done_guest
guest hello-error 'go away\033[8m'
hx -- true 2>"$tmp/err"
expect_eq "ERROR instead of HELLO: exits 1" 1 "$?"
expect_match "... with its message, escapes shown" \
	'the guest refused: go away\\x1b\[8m$' "$(cat "$tmp/err")"
if grep -q $'\033' "$tmp/err"; then fail "... and no ESC byte" "$(cat -A "$tmp/err")"; else pass "... and no ESC byte"; fi
done_guest

summary
