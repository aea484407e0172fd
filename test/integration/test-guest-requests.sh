#!/bin/bash
# Guest commands through the real hyperion-exec, without a VM: a fake guest
# on the job's exec socket (test/integration/fake-guest.py) sends REQUESTs
# (doc/protocol.md) as an srun typed in the VM would. The allowlist
# (guest_commands), argv, exit statuses and signals, the task's Slurm
# environment, per-stream flow control, the bound on concurrent requests,
# thousands of streams in one session with bounded memory, malformed stream
# frames ending the session cleanly, and no command outliving its session.
# About 30 s.
#
# usage: test-guest-requests.sh BUILD_DIR [APPLIANCE_DIR DISK_IMAGE]  (the others unused)
# Ends with "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
exec </dev/null

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
node=$(hostname -s)

build=$(cd "${1:-build}" && pwd)
exec_tool="$build/tools/exec/hyperion-exec"
if ! command -v python3 >/dev/null || [ ! -x "$exec_tool" ]; then
	echo "SKIP test-guest-requests: needs python3 and $exec_tool"
	summary
	exit 0
fi

tmp=$(mktemp -d /tmp/hyperion-guest-requests.XXXXXX)
state="$tmp/state"
job=7460
sock="$state/$node/job.$job/exec.0.sock"
mkdir -p "$state/$node/job.$job"
install -m 600 /dev/null "$state/$node/job.$job/exec.0.lock"
conf="$tmp/hyperion.conf"
cat >"$conf" <<CONF
state_dir = $state
guest_commands = /bin/sh /bin/echo /bin/cat /bin/sleep /usr/bin/env /usr/bin/head /usr/bin/sha256sum
CONF
agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# guest MODE [ARG...]: a fake guest for the next session.
guest() {
	rm -f "$sock"
	python3 "$here/fake-guest.py" "$sock" "$@" &
	agent_pid=$!
	for _ in $(seq 1 100); do [ -S "$sock" ] && return; sleep 0.05; done
	echo "the fake guest did not start" >&2
}
done_guest() {
	kill "$agent_pid" 2>/dev/null
	wait "$agent_pid" 2>/dev/null
	agent_pid=
}
# hx: the task's hyperion-exec (its command never runs: the fake guest
# answers), killed if still there after 30 s.
hx() { SLURM_JOB_ID=$job timeout -s KILL 30 "$exec_tool" --config "$conf" --timeout 10 -- true; }
# req MODE [ARG...]: what the fake guest saw, through hyperion-exec's stdout.
req() {
	guest "$@"
	hx 2>"$tmp/err"
	done_guest
}
marker=7.4321 # sleep's argument: finds this test's commands, and only them
left() { pgrep -f "^/bin/sleep $marker\$|^sleep $marker\$" | wc -l; }

echo "== commands, statuses, environment"
expect_eq "an allowed command runs, its output comes back" "out=hi there err= exit=0 error=" \
	"$(req run echo hi there)"
expect_eq "its exit status comes back" "out= err= exit=3 error=" "$(req run sh -c 'exit 3')"
expect_eq "death by a signal comes back as such" "out= err= signal=15 error=" \
	"$(req run sh -c 'kill -TERM $$')"
out=$(req run ls /)
expect_match "a command outside guest_commands is refused, exit 126" "exit=126" "$out"
expect_match "... with a clear message" "error='ls' is not a command this host runs for its guests \(guest_commands in hyperion.conf\)" "$out"
expect_match "a path is not a name: refused" "exit=126" "$(req run /bin/echo x)"
out=$(req run env)
expect_match "the guest's own variables reach it" "FAKE_GUEST=1" "$out"
expect_match "the task's Slurm environment wins over the guest's" "SLURM_JOB_ID=${job}([^0-9]|\$)" "$out"
case $out in *SLURM_JOB_ID=666*) fail "... the guest's is not passed on" ;; *) pass "... the guest's is not passed on" ;; esac
expect_match "it runs in the guest's working directory (the same path)" "out=$(pwd)" \
	"$(req run sh -c pwd)"
data=$(head -c 90000 /dev/urandom | base64 -w0)
expect_eq "stdin reaches it, in full" "$(printf %s "$data" | sha256sum | cut -d' ' -f1)" \
	"$(FAKE_STDIN=$data req run sha256sum | sed 's/^out=\([0-9a-f]*\) .*/\1/')"

echo "== terminal mode (REQUEST with HYP_EXEC_TTY, WINCH)"
out=$(req tty 24 80 50 132 sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo fds-tty; stty size; echo READY; read x; echo "got=$x"; stty size')
expect_match "in TTY mode the command runs on a pty of its own" "tty=/dev/pts/[0-9]+\\|" "$out"
expect_match "... as stdin, stdout and stderr" "\\|fds-tty\\|" "$out"
expect_match "... with the window size of the REQUEST" "\\|24 80\\|READY" "$out"
expect_match "... its input goes through the pty's line discipline" "\\|got=go\\|" "$out"
expect_match "WINCH resizes it" "\\|50 132\\|? err= exit=0" "$out"
out=$(req tty 24 80 24 80 sh -c 'ps -o tty=,sid=,pid= -p $$; echo READY; read x')
expect_match "... the command leads a session with the pty as its controlling terminal" "pts/[0-9]+ +([0-9]+) +\\1\\|" "$out"

echo "== signals and flow control"
t0=$(date +%s%N)
out=$(req signal 2 sh -c "echo ready; exec sleep $marker")
ms=$((($(date +%s%N) - t0) / 1000000))
expect_match "SIGNAL reaches the command: it dies of SIGINT" "signal=2" "$out"
if [ "$ms" -lt 5000 ]; then pass "... at once (${ms} ms)"; else fail "... at once" "${ms} ms"; fi
expect_eq "output stops at the stream's window until credit comes, then all of it" \
	"out=stalled at 262144, then 737856 more, exit=0 err= exit=0 error=" \
	"$(req window head -c 1000000 /dev/zero | sed 's/^/out=/; s/$/ err= exit=0 error=/' | head -c 200)"

echo "== bounds"
expect_eq "20 requests at once: 8 run, 12 are refused (EAGAIN)" "EAGAIN=12 EPERM=0 other=0 ran=8" \
	"$(req flood 20 sleep 1 | sed 's/^out=//; s/ err=.*//')"
guest streams 3000
rss=$( { SLURM_JOB_ID=$job /usr/bin/time -f 'rss=%M' timeout -s KILL 60 "$exec_tool" --config "$conf" --timeout 10 -- true >"$tmp/out"; } 2>&1 | sed -n 's/^rss=//p')
done_guest
expect_match "3000 streams in one session, each refused" "refused=3000" "$(cat "$tmp/out")"
if [ -n "$rss" ] && [ "$rss" -lt 20000 ]; then pass "... in bounded memory (${rss} KiB)"; else fail "... in bounded memory" "${rss:-?} KiB"; fi

echo "== malformed stream frames"
for bad in "host-stream:which the host opens" "past-window:exceed the window" \
	"big-credit:would open the window past" "unknown-type:frame type 511 is reserved"; do
	guest bad "${bad%%:*}"
	hx >/dev/null 2>"$tmp/err"
	rc=$?
	done_guest
	if [ "$rc" -eq 255 ]; then pass "${bad%%:*}: the session ends, exit 255 (EXEC_EXIT_LOST)"; else fail "${bad%%:*}: a clean failure" "$rc"; fi
	expect_match "... naming the problem" "${bad#*:}" "$(cat "$tmp/err")"
done
guest bad past-window # its command: sleep 5
hx >/dev/null 2>&1
done_guest
sleep 0.5
expect_eq "no guest command outlives its session" 0 "$(pgrep -fc '^/bin/sleep 5$|^sleep 5$' || true)"

echo "== through the real agent: thin commands in the guest (agent --listen, no VM)"
agent="$build/agent/hyperion-agent"
job2=7461
jd2="$state/$node/job.$job2"
mkdir -p "$jd2" "$tmp/guestbin" "$tmp/host"
install -m 600 /dev/null "$jd2/exec.0.lock"
# the host's "srun": what it got, or cat/exit/sleep
cat >"$tmp/host/srun" <<'SH'
#!/bin/sh
case $1 in
tty) tty; stty size; exit 0 ;;
cat) exec cat ;;
exit) exit "$2" ;;
sleep) exec sleep "$2" ;;
esac
echo "args=$*"
echo "job=$SLURM_JOB_ID cwd=$(pwd) guest=$FROM_GUEST"
SH
chmod 755 "$tmp/host/srun"
printf 'state_dir = %s\nguest_commands = %s\n' "$state" "$tmp/host/srun" >"$tmp/conf2"
for c in srun squeue; do ln -s "$agent" "$tmp/guestbin/$c"; done
"$agent" --listen "$jd2/exec.0.sock" 2>"$tmp/agent2.log" &
agent2=$!
for _ in $(seq 1 100); do [ -S "$jd2/exec.0.sock" ] && break; sleep 0.05; done
# in_guest SCRIPT: sh -c SCRIPT in the "guest", the thin commands on its PATH
in_guest() {
	SLURM_JOB_ID=$job2 timeout -s KILL 60 "$exec_tool" --config "$tmp/conf2" --timeout 10 -C "$tmp" \
		-- sh -c "PATH=$tmp/guestbin:\$PATH; $1"
}
out=$(in_guest "FROM_GUEST=yes srun a 'b c'; echo rc=\$?" </dev/null 2>&1)
expect_match "srun in the guest runs the host's srun with its argv" "args=a b c" "$out"
expect_match "... with the task's Slurm environment, the guest's variables, the same cwd" \
	"job=$job2 cwd=$tmp guest=yes" "$out"
expect_match "... and its exit status (0)" "rc=0" "$out"
expect_match "a non-zero exit status comes back" "rc=3" "$(in_guest 'srun exit 3; echo rc=$?' </dev/null 2>&1)"
head -c 5000000 /dev/urandom >"$tmp/in5"
expect_eq "5 MB through srun cat in the guest come back intact" \
	"$(sha256sum <"$tmp/in5" | cut -d' ' -f1)" \
	"$(in_guest 'srun cat | sha256sum | cut -d" " -f1' <"$tmp/in5" 2>&1)"
out=$(in_guest 'squeue; echo rc=$?' </dev/null 2>&1)
expect_match "a command outside guest_commands is refused in the guest, exit 126" "rc=126" "$out"
expect_match "... with a clear message" "squeue: 'squeue' is not a command this host runs" "$out"
out=$(in_guest "srun sleep $marker & p=\$!; sleep 1; kill -INT \$p; wait \$p; echo rc=\$?" </dev/null 2>&1)
expect_match "SIGINT to the in-guest srun ends the host command; srun dies of SIGINT" "rc=130" "$out"
expect_eq "... and nothing of it is left" 0 "$(left)"
# the thin srun on a terminal (hyperion-exec -t on pty-run.py's terminal)
SLURM_JOB_ID=$job2 timeout -s KILL 60 python3 "$here/pty-run.py" "$tmp/pty.out" "$exec_tool" \
	--config "$tmp/conf2" --timeout 10 -t -C "$tmp" -- sh -c "PATH=$tmp/guestbin:\$PATH
stty rows 30 cols 100; srun tty; echo rc=\$?; stty -a | grep -o -- '.icanon'" >/dev/null 2>&1
out=$(tr -d '\r' <"$tmp/pty.out")
expect_match "srun on a terminal in the guest: the host's srun runs on a pty" "/dev/pts/[0-9]+" "$out"
expect_match "... of the guest terminal's size" "(^|[^0-9])30 100" "$out"
expect_match "... and the guest's terminal is cooked again after it" "rc=0.*[^-]icanon" "$(echo $out)"
out=$(env -u HYPERION_SESSION "$tmp/guestbin/srun" x 2>&1; echo "rc=$?")
expect_match "outside a session, a clear message" "srun: not in a Hyperion job's VM session" "$out"
kill "$agent2" 2>/dev/null
wait "$agent2" 2>/dev/null

summary
