#!/bin/bash
# hyperion-exec against hyperion-agent in its development mode (--listen: a
# unix socket on the host instead of a virtio-serial port), without a VM:
# port claiming, stdio, exit statuses, signals, tty mode, timeouts, batch
# scripts of any size, resource limits and umask, and the Slurm task mode.
# The same checks against real guests are in test-vm.sh.
#
# usage: exec-agent-host.sh [BUILD_DIR]   (default: build; builds nothing)
# Ends with "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
exec </dev/null # no check reads the caller's terminal by accident

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
node=$(hostname -s)

build=$(cd "${1:-build}" && pwd)
exec_tool="$build/tools/exec/hyperion-exec"
agent="$build/agent/hyperion-agent"
[ -x "$exec_tool" ] && [ -x "$agent" ] || { echo "build $build first" >&2; exit 2; }

tmp=$(mktemp -d /tmp/hyperion-exec-test.XXXXXX)
chmod 755 "$tmp"
state="$tmp/state"
job=42
jd="$state/$node/job.$job"
nports=2
pids=() # everything started in the background and still running, killed on exit
# forget PID: it has ended (waited for or killed): never kill a reused pid.
forget() {
	local i
	for i in "${!pids[@]}"; do if [ "${pids[$i]}" = "$1" ]; then unset 'pids[i]'; fi; done
}

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# A fake job directory like hyp_job_dir_create() makes, one agent per port.
mkdir -p "$jd"
chmod 711 "$state" "$jd"
echo "console line 1" >"$jd/console.log"
start_agent() { # start_agent PORT
	rm -f "$jd/exec.$1.sock"
	"$agent" --listen "$jd/exec.$1.sock" 2>>"$tmp/agent.$1.log" &
	pids+=($!)
	agent_pid[$1]=$!
	disown $! # no "Killed" notice when a check kills it
	for _ in $(seq 1 100); do [ -S "$jd/exec.$1.sock" ] && return 0; sleep 0.05; done
	echo "agent on port $1 did not start:" >&2
	cat "$tmp/agent.$1.log" >&2
	return 1
}
declare -a agent_pid
for i in $(seq 0 $((nports - 1))); do
	install -m 600 /dev/null "$jd/exec.$i.lock"
	start_agent "$i"
done

HX=("$exec_tool" --state-dir "$state" --job "$job" --timeout 10)
# In the background, run "${HX[@]}" itself: with a function, $! would be a
# subshell, and signals sent to it would never reach hyperion-exec.
hx() { "${HX[@]}" "$@"; }
# status COMMAND...: its exit status (128+N if killed by signal N), never fails.
status() { local rc=0; "$@" || rc=$?; echo "$rc"; }
# proc_state PID: R, S, T (stopped)...
proc_state() { sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1; }

echo "== handshake"
out=$(hx --ping 100 2>&1 || true)
expect_match "--ping prints min/avg/max round trips" \
	'^ping: 100 round trips, min [0-9]+ us, avg [0-9]+ us, max [0-9]+ us$' "$out"
expect_eq "SLURM_JOB_ID is the default job" "ok" \
	"$(SLURM_JOB_ID=$job "$exec_tool" --state-dir "$state" --timeout 5 -- echo ok 2>&1)"
out=$(env -u SLURM_JOB_ID "$exec_tool" --state-dir "$state" -- true 2>&1 || true)
expect_match "no job: a clear message" "^hyperion-exec: no job: give --job or set SLURM_JOB_ID$" "$out"
rc=0
out=$("$exec_tool" --state-dir "$state" --job 43 --timeout 1 -- true 2>&1 </dev/null) || rc=$?
expect_match "a job without a VM here: a clear message" "job 43 has no VM on this node \(no $state/$node/job.43\)" "$out"
expect_eq "... and exit status 1" 1 "$rc"

echo "== exit status"
for code in 0 1 42; do
	expect_eq "exit status $code comes back" "$code" "$(status hx -- sh -c "exit $code" </dev/null)"
done
expect_eq "killed by SIGKILL in the guest: hyperion-exec dies of SIGKILL" 137 \
	"$(status hx -- sh -c 'kill -KILL $$' </dev/null)"
expect_eq "killed by SIGSEGV: dies of SIGSEGV" 139 \
	"$(status hx -- sh -c 'kill -SEGV $$' </dev/null)"
rc=0
out=$(hx -- /no/such/command 2>&1 </dev/null) || rc=$?
expect_match "a missing command: the agent's message" "hyperion-exec: .*no/such/command" "$out"
[ "$rc" -ne 0 ] && pass "... and a non-zero exit ($rc)" || fail "... and a non-zero exit"

echo "== stdio"
head -c 100M /dev/urandom >"$tmp/in"
want=$(sha256sum <"$tmp/in" | cut -d' ' -f1)
t0=$(date +%s%N)
got=$(hx -- cat <"$tmp/in" | sha256sum | cut -d' ' -f1) || true
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "100 MB through stdin and stdout come back with the same checksum" "$want" "$got"
echo "     (100 MB round trip in $ms ms)"
got=$(cat "$tmp/in" | hx -- cat | sha256sum | cut -d' ' -f1) || true
expect_eq "... from a pipe to a pipe too" "$want" "$got"
hx -- cat <"$tmp/in" >"$tmp/out" || true
expect_eq "... and to a file" "$want" "$(sha256sum <"$tmp/out" | cut -d' ' -f1)"
rm -f "$tmp/in" "$tmp/out"
out=$(hx -- sh -c 'echo to-out; echo to-err >&2' 2>"$tmp/err" </dev/null)
expect_eq "stdout stays stdout" "to-out" "$out"
expect_eq "stderr stays stderr" "to-err" "$(cat "$tmp/err")"
expect_eq "stdin from /dev/null: the command sees its end at once" "0" \
	"$(timeout 5 "$exec_tool" --state-dir "$state" --job $job -- wc -c </dev/null)"
expect_eq "a closed stdin is an empty one" "0" \
	"$(timeout 5 "$exec_tool" --state-dir "$state" --job $job -- wc -c <&-)"
expect_eq "fd 1's flags are restored (a pipe is made non-blocking only for the session)" 0 \
	"$({ hx -- true; python3 -c 'import fcntl, os; print(fcntl.fcntl(1, fcntl.F_GETFL) & os.O_NONBLOCK)'; } | cat)"
rc=$(set +o pipefail; hx -- yes </dev/null | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}")
expect_eq "a closed stdout pipe: the command gets SIGPIPE, hyperion-exec dies of it" 141 "$rc"

echo "== request"
out=$(hx -i -e A=1 -e 'B=two words' -- env </dev/null | sort)
expect_eq "exactly the environment asked for (and the session's socket for guest commands)" \
	"A=1 B=two words" "$(grep -v '^HYPERION_SESSION=' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
expect_match "... HYPERION_SESSION names the session's socket" "^HYPERION_SESSION=/.*/hyperion-session\.[0-9]+\.sock$" "$out"
expect_eq "the task's environment by default, -e overrides" "kept new" \
	"$(KEEP=kept OVER=old hx -e OVER=new -- sh -c 'echo $KEEP $OVER' </dev/null)"
expect_eq "-C DIR" "/usr" "$(hx -C /usr -- pwd </dev/null)"
expect_eq "the current directory by default" "$tmp" "$(cd "$tmp" && hx -- pwd </dev/null)"
rc=0
out=$(hx -C /no/such/dir -- pwd 2>&1 </dev/null) || rc=$?
expect_match "-C with a directory missing in the guest fails, naming it" "/no/such/dir" "$out"
[ "$rc" -ne 0 ] && pass "... with a non-zero exit ($rc)" || fail "... with a non-zero exit"
expect_eq "umask is passed on" "0027" "$(umask 027; hx -- sh -c umask </dev/null)"
printf '#!/bin/sh\necho "script $1 $2"\n' >"$tmp/job.sh"
expect_eq "--script sends a host file and runs it with its arguments" "script a b" \
	"$(hx --script -- "$tmp/job.sh" a b </dev/null)"
{ echo '#!/bin/sh'; for i in $(seq 1 3000); do echo "# padding line $i padding padding"; done
  echo 'echo big $#'; } >"$tmp/big.sh"
expect_eq "... a script larger than one argument ($(stat -c %s "$tmp/big.sh") bytes)" "big 1" \
	"$(hx --script -- "$tmp/big.sh" x </dev/null)"
# script_of SIZE FILE: a script that prints its checksum and its own path,
# then SIZE bytes in all, a NUL byte and random ones it never reaches.
script_of() {
	{ printf '#!/bin/sh\nsha256sum <"$0" | cut -d" " -f1\necho "$0"\nexit 0\n'; printf '\0'
	  head -c "$1" /dev/urandom; } | head -c "$1" >"$2"
}
for size in 1M 4M; do
	script_of "$size" "$tmp/s$size.sh"
	want=$(sha256sum <"$tmp/s$size.sh" | cut -d' ' -f1)
	out=$(TMPDIR="$tmp" hx --script -- "$tmp/s$size.sh" </dev/null 2>&1 || true)
	expect_eq "a $size script with NUL bytes arrives intact (checksum inside)" "$want" \
		"$(sed -n 1p <<<"$out")"
	copy=$(sed -n 2p <<<"$out")
	expect_match "... its copy lies in the task's TMPDIR" "^$tmp/hyperion-file\.[A-Za-z0-9]{6}$" "$copy"
	[ -n "$copy" ] && [ ! -e "$copy" ] && pass "... and is gone once it ended" ||
		fail "... and is gone once it ended ($copy)"
done
expect_eq "ulimit -n 512 before hyperion-exec is the command's" "512" \
	"$(ulimit -n 512; hx -- sh -c 'ulimit -n' </dev/null)"
expect_eq "... soft and hard (ulimit -Sn 256 -Hn 300)" "256 300" \
	"$(ulimit -Sn 256; ulimit -Hn 300; hx -- sh -c 'echo $(ulimit -Sn) $(ulimit -Hn)' </dev/null)"
expect_eq "... and umask 027 with it" "512 0027" \
	"$(ulimit -n 512; umask 027; hx -- sh -c 'echo $(ulimit -n) $(umask)' </dev/null)"
expect_eq "... and ulimit -s, -c" "4096 0" \
	"$(ulimit -s 4096; ulimit -c 0; hx -- sh -c 'echo $(ulimit -s) $(ulimit -c)' </dev/null)"

echo "== as a Slurm task (the options in HYPERION_TASK_*, argv[0] replaced)"
printf 'state_dir = %s\nboot_timeout = 10\n' "$state" >"$tmp/hyperion.conf"
task() { # task ARGV0 ARG...: as Slurm's execve after the plugin's task_init
	env HYPERION_TASK_ARGV0="$1" HYPERION_TASK_JOB=$job HYPERION_TASK_NODE="$node" \
		HYPERION_TASK_CONFIG="$tmp/hyperion.conf" "$exec_tool" "${@:2}"
}
expect_eq "the task's own arguments, options of hyperion-exec's included" "zero --job -c x" \
	"$(task sh -c 'echo $0 "$@"' zero --job -c x </dev/null 2>&1)"
expect_eq "its control variables are not the command's" "0" \
	"$(task sh -c 'env | grep -c ^HYPERION_TASK_' </dev/null 2>&1 || true)"
expect_eq "what a TaskProlog exported is" "from-prolog" \
	"$(FROM_PROLOG=from-prolog task sh -c 'echo $FROM_PROLOG' </dev/null 2>&1)"
script_of 1M "$tmp/task.sh"
expect_eq "a batch step's script (HYPERION_TASK_SCRIPT=1)" \
	"$(sha256sum <"$tmp/task.sh" | cut -d' ' -f1)" \
	"$(HYPERION_TASK_SCRIPT=1 task "$tmp/task.sh" </dev/null 2>&1 | sed -n 1p)"
out=$(env HYPERION_TASK_ARGV0=sh HYPERION_TASK_NODE="$node" "$exec_tool" -c true 2>&1 </dev/null || true)
expect_match "incomplete control variables: a clear message" \
	"^hyperion-exec: started for a Slurm task, but HYPERION_TASK_\* in the environment are incomplete" "$out"

echo "== signals"
"${HX[@]}" -- sleep 1000 </dev/null &
pid=$!
pids+=($pid)
sleep 1
t0=$(date +%s%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
forget "$pid"
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "SIGTERM ends 'sleep 1000'; hyperion-exec dies of SIGTERM" 143 "$rc"
if [ "$ms" -lt 1000 ]; then pass "... within a second (${ms} ms)"; else fail "... within a second" "${ms} ms"; fi
"${HX[@]}" -- sh -c 'trap "echo got-usr1; exit 3" USR1; while :; do sleep 0.05; done' \
	>"$tmp/usr1" </dev/null 2>/dev/null &
pid=$!
pids+=($pid)
sleep 1
kill -USR1 "$pid"
rc=0
wait "$pid" || rc=$?
forget "$pid"
expect_eq "SIGUSR1 reaches the command" "got-usr1 3" "$(cat "$tmp/usr1") $rc"
"${HX[@]}" -- sh -c 'trap "echo got-tstp" TSTP; trap "exit 4" TERM; while :; do sleep 0.05; done' \
	>"$tmp/tstp" </dev/null 2>/dev/null &
pid=$!
pids+=($pid)
sleep 1
kill -TSTP "$pid"
sleep 0.5
st=$(proc_state "$pid") || true
kill -TERM "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
forget "$pid"
expect_eq "SIGTSTP reaches the command and does not stop hyperion-exec" "S got-tstp 4" \
	"$st $(cat "$tmp/tstp") $rc"

echo "== tty"
# ptytest MODE ARGS...: hyperion-exec ARGS on a fresh pty that is its
# controlling terminal (30x100); prints key=value lines (see the script).
cat >"$tmp/ptytest.py" <<'PY'
# usage: ptytest.py MODE HYPERION-EXEC-ARGS...   (MODE: winch | term)
# Runs hyperion-exec on a fresh pty as its controlling terminal; prints
# key=value lines about what the guest saw and the terminal's state.
import fcntl, os, select, struct, subprocess, sys, termios, time

mode, cmd = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
before = termios.tcgetattr(slave)

def make_ctty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

script = {"winch": "tty; stty size; read x; stty size",
          "term": "tty; sleep 1000",
          "plain": "tty"}[mode]
p = subprocess.Popen(cmd + ["--", "sh", "-c", script], stdin=slave, stdout=slave,
                     stderr=slave, preexec_fn=make_ctty)
out, raw, sent = b"", None, False
deadline = time.time() + 15
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        out += data
    if raw is None and b"/dev/" in out:
        time.sleep(0.2)
        raw = not (termios.tcgetattr(slave)[3] & termios.ICANON)
    if mode == "winch" and not sent and b"30 100" in out:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        time.sleep(0.3)
        os.write(master, b"\r")
        sent = True
    if mode == "term" and not sent and raw is not None:
        p.send_signal(15)
        sent = True
    if p.poll() is not None and not r:
        break
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    rc = p.wait()
lines = [l for l in out.decode(errors="replace").replace("\r", "").split("\n") if l]
print("lines=" + "|".join(lines))
print("raw=%s" % ("yes" if raw else "no"))
print("restored=%s" % ("yes" if termios.tcgetattr(slave) == before else "no"))
print("rc=%d" % rc)
PY
ptytest() { python3 "$tmp/ptytest.py" "$1" "$exec_tool" "${@:2}" --state-dir "$state" --job "$job" --timeout 10; }
field() { sed -n "s/^$1=//p"; } # field KEY <OUTPUT

out=$(ptytest winch)
expect_match "stdin and stdout terminals: the command runs on a terminal" '^/dev/' \
	"$(field lines <<<"$out" | cut -d'|' -f1)"
expect_eq "... of the same window size, then the new one after SIGWINCH" "30 100|40 120" \
	"$(field lines <<<"$out" | cut -d'|' -f2-)"
expect_eq "... the local terminal is raw during the session" yes "$(field raw <<<"$out")"
expect_eq "... and restored at the end" "yes 0" "$(field restored <<<"$out") $(field rc <<<"$out")"
out=$(ptytest term)
expect_eq "SIGTERM in tty mode: dies of it, terminal restored" "yes -15" \
	"$(field restored <<<"$out") $(field rc <<<"$out")"
out=$(ptytest plain -T)
expect_eq "-T: no terminal in the guest" "not a tty" "$(field lines <<<"$out")"
expect_match "-t without a local terminal still gets one in the guest" "^/dev/" \
	"$(hx -t -- tty </dev/null | tr -d '\r')"

echo "== ports"
t0=$(date +%s%N)
for i in 1 2; do "${HX[@]}" -- sh -c "sleep 1; echo session-$i" >"$tmp/conc.$i" </dev/null & pids+=($!); conc[$i]=$!; done
ok=0
for i in 1 2; do
	if wait "${conc[$i]}" && [ "$(cat "$tmp/conc.$i")" = "session-$i" ]; then ok=$((ok + 1)); fi
	forget "${conc[$i]}"
done
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "two concurrent sessions on two ports" 2 "$ok"
if [ "$ms" -lt 1900 ]; then pass "... in parallel (${ms} ms)"; else fail "... in parallel" "${ms} ms"; fi
busy=()
for i in 1 2; do "${HX[@]}" -- sleep 3 </dev/null & pids+=($!); busy+=($!); done
sleep 0.5
t0=$(date +%s%N)
rc=0
out=$("$exec_tool" --state-dir "$state" --job $job --timeout 1 -- true 2>&1 </dev/null) || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "all ports busy: a clear message after the timeout" \
	"hyperion-exec: all $nports exec ports of job $job are busy" "$out"
expect_eq "... exit status 1" 1 "$rc"
if [ "$ms" -ge 900 ] && [ "$ms" -lt 2000 ]; then pass "... after about 1 s (${ms} ms)"; else fail "... after about 1 s" "${ms} ms"; fi
expect_eq "a busy port is waited for, within the timeout" ok \
	"$("$exec_tool" --state-dir "$state" --job $job --timeout 10 -- echo ok 2>&1 </dev/null)"
for p in "${busy[@]}"; do wait "$p" || true; forget "$p"; done

echo "== failures"
# A VM whose guest never answers: QEMU's socket accepts, nothing replies.
jd2="$state/$node/job.44"
mkdir -p "$jd2"
install -m 600 /dev/null "$jd2/exec.0.lock"
printf 'Booting the kernel\nKernel panic - not syncing: no init\n' >"$jd2/console.log"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); time.sleep(60)' "$jd2/exec.0.sock" &
silent=$!
pids+=($silent)
for _ in $(seq 1 50); do [ -S "$jd2/exec.0.sock" ] && break; sleep 0.05; done
rc=0
out=$("$exec_tool" --state-dir "$state" --job 44 --timeout 2 -- true 2>&1 </dev/null) || rc=$?
expect_eq "a guest that never answers: the console's last lines" \
	"hyperion-exec: job 44: the guest did not answer within 2 s; last console lines:
Booting the kernel
Kernel panic - not syncing: no init" "$out"
expect_eq "... and exit status 1" 1 "$rc"
kill -KILL "$silent" 2>/dev/null || true
wait "$silent" 2>/dev/null || true
forget "$silent"

"${HX[@]}" -- sh -c 'echo $$; exec sleep 1000' >"$tmp/lost" </dev/null 2>"$tmp/lost.err" &
pid=$!
pids+=($pid)
for _ in $(seq 1 100); do [ -s "$tmp/lost" ] && break; sleep 0.05; done
guest_pid=$(cat "$tmp/lost")
kill -KILL "${agent_pid[0]}" "${agent_pid[1]}" || true
forget "${agent_pid[0]}"
forget "${agent_pid[1]}"
rc=0
wait "$pid" || rc=$?
forget "$pid"
[ -n "$guest_pid" ] && kill -KILL "$guest_pid" 2>/dev/null || true
expect_eq "the agent dies: connection lost, exit 255" 255 "$rc"
expect_eq "... with a clear message" \
	"hyperion-exec: job $job: connection to the guest lost (VM stopped?)" "$(cat "$tmp/lost.err")"
start_agent 0
start_agent 1

if [ "$(id -u)" -eq 0 ]; then
	ensure_user hyptest2
	rc=0
	out=$(runuser -u hyptest2 -- "$exec_tool" --state-dir "$state" --job $job --timeout 2 -- true 2>&1 </dev/null) || rc=$?
else
	chmod 000 "$jd/exec.0.lock"
	rc=0
	out=$(hx -- true 2>&1 </dev/null) || rc=$?
	chmod 600 "$jd/exec.0.lock"
fi
expect_eq "another user's VM: permission denied" \
	"hyperion-exec: permission denied: job $job's VM belongs to another user" "$out"
expect_eq "... exit status 1" 1 "$rc"
rc=0
out=$(hx --bogus -- true 2>&1) || rc=$?
expect_match "an unknown option is refused" "^hyperion-exec: unknown option '--bogus'" "$out"
expect_eq "... exit status 1" 1 "$rc"
expect_match "--help" "^usage: hyperion-exec" "$("$exec_tool" --help)"

summary
