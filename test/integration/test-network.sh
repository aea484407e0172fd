#!/bin/bash
# The guest network (doc/network.md) on the multi-node test cluster
# (scripts/cluster-up --nodes 3), as the non-root users hyptest1 and hyptest2:
# a 2-node VM job's VMs reach each other by name (ping, TCP, a 100 MB
# stream); a second job of the other user, on the third node and one of the
# first job's, cannot exchange a packet with the first job, whatever root in
# its guest configures; no VM reaches slurmd's port on its node; and after
# completion, scancel and a time limit, no tap, VXLAN, bridge or FDB entry of
# a job is left on any node.
#
# usage: test-network.sh BUILD_DIR APPLIANCE_DIR
# Needs root and an appliance with virtio_net; run under flock
# /run/hyperion-slurm.lock (it starts and stops the test cluster).
# About 5 minutes (8 TCG guests, a 1-minute time limit).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$here/multinode-lib.sh"

build=$(cd "${1:?build dir}" && pwd)
appliance=${2:?appliance dir}
user1=hyptest1
user2=hyptest2
ensure_user "$user1"
ensure_user "$user2"
tmp=$(mktemp -d /tmp/hyperion-network-it.XXXXXX)
chmod 755 "$tmp"
cstate=/run/hyperion-cluster-network
hstate=/run/hyperion-network-it
export SLURM_CONF=$cstate/slurm.conf
write_hyperion_conf
work1=$(getent passwd "$user1" | cut -d: -f6)/hyperion-network-it
work2=$(getent passwd "$user2" | cut -d: -f6)/hyperion-network-it
rm -rf "$work1" "$work2"
runuser -u "$user1" -- mkdir -p "$work1"
runuser -u "$user2" -- mkdir -p "$work2"
as1() { (cd "$work1" && runuser -u "$user1" -- "$@"); }
as2() { (cd "$work2" && runuser -u "$user2" -- "$@"); }

cleanup() {
	"$top/scripts/cluster-down" --state "$cstate" --purge >/dev/null 2>&1
	ip netns del hypnet-va 2>/dev/null
	ip netns del hypnet-vb 2>/dev/null
	rm -rf "$tmp" "$work1" "$work2" "$hstate"
}
trap cleanup EXIT

if ! grep -q '^input modules .*virtio_net' "$appliance/manifest" 2>/dev/null; then
	echo "SKIP: the appliance has no virtio_net (rebuild it with scripts/build-appliance)"
	summary
	exit 0
fi

echo "== cluster-up --nodes 3"
if ! "$top/scripts/cluster-up" --state "$cstate" --nodes 3 \
	--plugin "$build/plugin/slurm/hyperion.so" --hyperion-conf "$tmp/hyperion.conf" \
	--exec "$build/tools/exec/hyperion-exec" --features hyperion,hyperion_tcg --no-check \
	>"$tmp/up.log" 2>&1; then
	cat "$tmp/up.log"
	fail "cluster-up --nodes 3"
	summary
	exit 1
fi
pass "cluster-up --nodes 3"

# groot USER NODE JOB CMD: CMD as root in the job's VM on NODE, as the job's
# user can do it (guest-root.py on the user's exec socket): the isolation
# must hold against root in a guest.
groot() {
	on "$2" runuser -u "$1" -- timeout 60 python3 "$here/guest-root.py" "$hstate/$2/job.$3" "$4"
}
# dev KIND JOB: a regex of the job's device names (doc/network.md: "hyp",
# kind, job id in hex, 3 hex digits of the node name's hash)
dev() { printf 'hyp%s%x[0-9a-f]{3}' "$1" "$2"; }
# ours NODE JOB: the job's devices and FDB entries on the node
ours() {
	on "$1" sh -c "ip -o link show 2>/dev/null | grep -E '^[0-9]+: $(dev '[jxt]' "$2")[:@]'
		bridge fdb show 2>/dev/null | grep -E 'dev $(dev x "$2") '" || true
}
none_left() { # JOB NODE...
	local j=$1 n
	shift
	for n in "$@"; do [ -z "$(ours "$n" "$j")" ] || return 1; done
	nothing_of_job "$j" "$@"
}
subnet() { echo "10.$(($1 % 256))"; } # doc/network.md: 10.<job mod 256>.0.<node index + 1>/16
running() { test "$(job_field "$1" JobState)" = RUNNING; }

# veth_baseline: ms for the same 100 MB stream, with the guests' busybox nc,
# over a raw veth pair between two namespaces of this test's own
veth_baseline() {
	local deb bb=$tmp/bb/bin/busybox t0 t1
	deb=$(ls -1t /var/cache/hyperion/debs/busybox-static_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] && dpkg-deb -x "$deb" "$tmp/bb" && [ -x "$bb" ] || { echo "?"; return; }
	ip netns add hypnet-va && ip netns add hypnet-vb &&
		ip link add hypnet-va0 netns hypnet-va type veth peer name hypnet-vb0 netns hypnet-vb &&
		ip -n hypnet-va addr add 192.168.251.1/30 dev hypnet-va0 &&
		ip -n hypnet-vb addr add 192.168.251.2/30 dev hypnet-vb0 &&
		ip -n hypnet-va link set hypnet-va0 up && ip -n hypnet-vb link set hypnet-vb0 up &&
		ip -n hypnet-vb link set lo up || { echo "?"; ip netns del hypnet-va; ip netns del hypnet-vb; return; } 2>/dev/null
	# -e: the receiver's own stdin never ends the stream (busybox nc shuts
	# its side when its stdin ends, and the sender then stops)
	ip netns exec hypnet-vb "$bb" nc -l -p 5001 -e "$bb" sh -c "$bb wc -c >$tmp/vcount" &
	local lpid=$!
	sleep 1
	t0=$(date +%s%N)
	ip netns exec hypnet-va sh -c "dd if=/dev/zero bs=1M count=100 2>/dev/null | $bb nc 192.168.251.2 5001"
	t1=$(date +%s%N)
	wait "$lpid"
	[ "$(tr -d ' ' <"$tmp/vcount")" = 104857600 ] || t1=$t0
	ip netns del hypnet-va
	ip netns del hypnet-vb
	echo $(((t1 - t0) / 1000000))
}

echo "== sbatch -N 2: the batch script reaches the second VM by name"
# As the user, busybox's ping needs a raw socket (root): the batch script
# opens a TCP connection by name; root in the guests pings below.
cat >"$work1/byname.sh" <<'JOB'
#!/bin/sh
echo "host=$(hostname)"
grep -w node2 /etc/hosts
for i in $(seq 180); do
	echo "from-$(hostname)" | nc -w 2 node2 5000 2>/dev/null && echo TCP-OK && break
	sleep 1
done
# srun in the guest (issue 9's guest commands): a step on both nodes, each
# task in its node's VM
echo "srun: $(srun -N 2 -n 2 hostname | sort | tr '\n' ' ')"
JOB
chmod 755 "$work1/byname.sh"
c=$(as1 sbatch --parsable -N 2 -w node1,node2 --mem=256 --vm-image=default -o "$work1/out-%j.txt" "$work1/byname.sh")
c=${c%%;*}
wait_for 120 running "$c"
# No step runs on node2: its VM is the one the job's extern step booted.
# the listener's command writes to nc's stderr, which comes back here
wait_for 120 groot "$user1" node2 "$c" true
groot "$user1" node2 "$c" "nc -l -p 5000 -e sh -c 'cat >&2'" >"$tmp/recv-c" 2>&1 &
wait_for 200 sh -c "! squeue -h -j $c | grep -q ."
out=$(cat "$work1/out-$c.txt" 2>/dev/null)
expect_match "the batch script runs in node1's VM" "^host=node1" "$out"
expect_match "... whose /etc/hosts names node2 at its job address" "$(subnet "$c")\.0\.2[[:space:]]+node2" "$out"
expect_match "... and opens a TCP connection to node2's VM by name" "TCP-OK" "$out"
expect_match "... which node2's VM received" "from-node1" "$(cat "$tmp/recv-c")"
expect_match "... and its srun -N 2 runs a task in each VM, named as its node" "^srun: node1 node2 $" "$out"
check "job $c completed: no tap, VXLAN, bridge, FDB entry or state left on its nodes" \
	wait_for 30 none_left "$c" node1 node2

echo "== two jobs of two users side by side"
a=$(as1 sbatch --parsable -N 2 -w node1,node2 --mem=256 --vm-image=default -o /dev/null --wrap 'sleep 900')
a=${a%%;*}
b=$(as2 sbatch --parsable -N 2 -w node2,node3 --mem=256 --vm-image=default -t 1 -o /dev/null --wrap 'sleep 900')
b=${b%%;*}
wait_for 120 running "$a"
wait_for 120 running "$b"
# Each node's VM is up from the job's start (its extern step), without a step there.
both_answer() { groot "$1" "$3" "$2" true && groot "$1" "$4" "$2" true; } # USER JOB NODE NODE
check "job $a's VMs answer, on node1 and node2" wait_for 120 both_answer "$user1" "$a" node1 node2
check "job $b's VMs answer, on node2 and node3" wait_for 120 both_answer "$user2" "$b" node2 node3
sa=$(subnet "$a") sb=$(subnet "$b")
expect_eq "job $a on node1: its address and MTU (fabric 9000 less VXLAN's 50)" "$sa.0.1/16 8950" \
	"$(groot "$user1" node1 "$a" "ip -o -4 addr show eth0 | awk '{print \$4}'; cat /sys/class/net/eth0/mtu" | paste -sd ' ')"
check "node1's VM pings node2's by name" groot "$user1" node1 "$a" "ping -c 2 -W 2 node2"
# listeners run their command on the connection (-e): busybox nc would
# otherwise shut its side as soon as its own stdin ends
groot "$user1" node2 "$a" "nc -l -p 5000 -e sh -c 'cat >/tmp/recv'" >/dev/null 2>&1 &
lpid=$!
sleep 2
groot "$user1" node1 "$a" "echo hello-over-tcp | nc node2 5000" >/dev/null 2>&1
wait "$lpid"
expect_eq "a TCP connection by name from node1's VM to node2's" "hello-over-tcp" \
	"$(groot "$user1" node2 "$a" "cat /tmp/recv")"

groot "$user1" node2 "$a" "nc -l -p 5001 -e sh -c 'wc -c >/tmp/count'" >/dev/null 2>&1 &
lpid=$!
sleep 2
t0=$(date +%s%N)
groot "$user1" node1 "$a" "dd if=/dev/zero bs=1M count=100 2>/dev/null | nc node2 5001" >/dev/null 2>&1
t1=$(date +%s%N)
wait "$lpid"
expect_eq "a 100 MB TCP stream from node1's VM to node2's arrives whole" 104857600 \
	"$(groot "$user1" node2 "$a" "cat /tmp/count" | tr -d ' ')"
vm_ms=$(((t1 - t0) / 1000000))
veth_ms=$(veth_baseline)
echo "     100 MB: VM to VM over the job's VXLAN $vm_ms ms; raw veth pair between two namespaces $veth_ms ms"
[ -z "${HYP_NET_BENCH_OUT:-}" ] || echo "$vm_ms $veth_ms" >"$HYP_NET_BENCH_OUT"

# Job b's root takes an address in job a's subnet (and a's root one in b's):
# only the segment can keep them apart.
b_takes_a_subnet() {
	groot "$user2" node2 "$b" "ip addr add $sa.0.200/16 dev eth0" &&
		groot "$user2" node3 "$b" "ip addr add $sa.0.201/16 dev eth0"
}
check "root in job $b's VMs takes addresses in job $a's subnet" b_takes_a_subnet
check "... and root in job $a's VM one in job $b's" \
	groot "$user1" node1 "$a" "ip addr add $sb.0.200/16 dev eth0"
check_fails() { if "${@:2}" >/dev/null 2>&1; then fail "$1"; else pass "$1"; fi; }
check_fails "job $b's VM on node2 (same node) cannot ping job $a's" \
	groot "$user2" node2 "$b" "ping -c 2 -W 2 $sa.0.2"
check_fails "job $b's VM on node3 cannot ping job $a's on node1" \
	groot "$user2" node3 "$b" "ping -c 2 -W 2 $sa.0.1"
check_fails "job $a's VM on node1 cannot ping job $b's on node2" \
	groot "$user1" node1 "$a" "ping -c 2 -W 2 $sb.0.1"
groot "$user1" node2 "$a" "nc -l -p 5002 -e sh -c 'cat >/dev/null'" >/dev/null 2>&1 &
lpid=$!
sleep 2
check_fails "job $b's VM cannot open a TCP connection to job $a's" \
	groot "$user2" node2 "$b" "echo x | nc -w 3 $sa.0.2 5002"
kill "$lpid" 2>/dev/null
groot "$user1" node2 "$a" "pkill nc" >/dev/null 2>&1

# slurmd listens on node2's 10.250.0.12:6818. Root in the guest routes
# there and even addresses the bridge's own MAC: the node's stack ignores it.
check "(node2 itself reaches its slurmd at 10.250.0.12:6818)" on node2 bash -c 'exec 3<>/dev/tcp/10.250.0.12/6818'
brmac=$(on node2 sh -c "cat /sys/class/net/$(dev j "$a" | sed 's/\[.*//')*/address")
check "root in job $a's VM routes to the fabric's subnet" \
	groot "$user1" node2 "$a" "ip route add 10.250.0.0/24 dev eth0"
check_fails "job $a's VM cannot reach slurmd's port on its node (by ARP)" \
	groot "$user1" node2 "$a" "echo x | nc -w 3 10.250.0.12 6818"
groot "$user1" node2 "$a" "ip neigh replace 10.250.0.12 lladdr $brmac dev eth0 nud permanent" >/dev/null 2>&1
check_fails "... nor with the bridge's MAC as its neighbour" \
	groot "$user1" node2 "$a" "echo x | nc -w 3 10.250.0.12 6818"
check_fails "... nor ping the node" groot "$user1" node2 "$a" "ping -c 2 -W 2 10.250.0.12"

echo "== teardown"
expect_match "while running, job $a has its bridge, VXLAN, tap and FDB entries on node2" \
	"$(dev j "$a").*$(dev x "$a").*$(dev t "$a").*dst 10.250.0.11" "$(ours node2 "$a" | paste -sd ' ')"
as1 scancel "$a"
check "scancel: nothing of job $a left on node1 and node2" wait_for 60 none_left "$a" node1 node2
check "job $b hits its 1-minute time limit" wait_for 150 sh -c "! squeue -h -j $b | grep -q ."
expect_eq "... its end state" TIMEOUT "$(job_field "$b" JobState)"
check "time limit: nothing of job $b left on node2 and node3" wait_for 60 none_left "$b" node2 node3
expect_eq "no hyp- device is left on any node" "" \
	"$(for n in node1 node2 node3; do on "$n" ip -o link show 2>/dev/null | grep -E '^[0-9]+: hyp[jxt]'; done)"
summary
