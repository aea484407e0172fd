# shellcheck shell=bash
# What scripts/cluster-up does differently with --nodes N > 1 (sourced after
# scripts/slurm/nodes.sh). Uses cluster-up's variables: state, nnodes,
# plain_nodes, features, ctl, hypconf, health_check, libvirt, here.
# shellcheck disable=SC2154

# multi_nodes: prints the node names, node1..nodeN.
multi_nodes() {
	local i
	for ((i = 1; i <= nnodes; i++)); do printf 'node%d\n' "$i"; done
}

# multi_is_plain INDEX: the first --plain-nodes nodes have neither libvirtd
# nor features.
multi_is_plain() { [ "$1" -le "$plain_nodes" ]; }

# multi_up: the fabric, every node's namespaces and (unless plain or
# --no-libvirt) its libvirtd; records the nodes in $state/nodes.list.
multi_up() {
	local i n old
	old=$(node_names)
	for n in $old; do
		[[ $n =~ ^node([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -le "$nnodes" ] && continue
		node_down "$n"
	done
	# first the list, so that cluster-down finds what a failure leaves
	for ((i = 1; i <= nnodes; i++)); do
		if multi_is_plain "$i"; then echo "node$i plain"; else echo "node$i"; fi
	done >"$state/nodes.list"
	ns_dir_up
	fabric_up
	for ((i = 1; i <= nnodes; i++)); do
		n=node$i
		node_up "$n" "$i"
		if multi_is_plain "$i" || [ -z "$libvirt" ]; then
			node_libvirt_down "$n"
		else
			node_libvirt_up "$n"
		fi
	done
}

# multi_features INDEX: the Features= of node INDEX (empty: none).
multi_features() {
	local i=$1 f
	if multi_is_plain "$i"; then return 0; fi
	if [ "$features" != auto ]; then
		printf '%s\n' "$features"
		return 0
	fi
	f=$(node_exec "node$i" "$ctl" --config "$hypconf" check --features 2>/dev/null) || true
	[ -n "$f" ] || warn "node$i: '$ctl check --features' printed nothing: no features"
	printf '%s\n' "$f"
}

# multi_node_lines HW: the NodeName= lines (HW: CPUs=... RealMemory=...).
multi_node_lines() {
	local i f
	for ((i = 1; i <= nnodes; i++)); do
		f=$(multi_features "$i")
		printf 'NodeName=node%d NodeAddr=%s NodeHostname=node%d %s%s State=UNKNOWN\n' \
			"$i" "$(node_addr "$i")" "$i" "$1" "${f:+ Features=$f}"
	done
}

# health_check_lines: HealthCheckProgram= and friends, and the wrapper that
# gives hyperion-healthcheck this cluster's hyperionctl and hyperion.conf
# (slurmd runs it with an environment of its own). Nodes without features
# pass.
health_check_lines() {
	[ -n "$health_check" ] || return 0
	local plain=" " n
	for n in $(multi_nodes); do
		if multi_is_plain "${n#node}"; then plain+="$n "; fi
	done
	cat >"$state/healthcheck.new" <<-EOF
		#!/bin/sh
		# written by scripts/cluster-up: hyperion-healthcheck for this test cluster
		case "$plain" in *" \$SLURMD_NODENAME "*) exit 0 ;; esac
		export HYPERIONCTL=$ctl HYPERION_CONFIG=$hypconf SLURM_CONF=$state/slurm.conf
		exec $(realpath "$here/../tools/healthcheck/hyperion-healthcheck")
	EOF
	chmod 0755 "$state/healthcheck.new"
	if ! cmp -s "$state/healthcheck.new" "$state/healthcheck"; then
		mv -f "$state/healthcheck.new" "$state/healthcheck"
	fi
	rm -f "$state/healthcheck.new"
	printf 'HealthCheckProgram=%s\nHealthCheckInterval=%s\nHealthCheckNodeState=ANY\n' \
		"$state/healthcheck" "$health_interval"
}

# multi_start_slurmd: one slurmd per node, in the node's namespaces.
multi_start_slurmd() {
	local n
	for n in $(multi_nodes); do
		install -d -m 0755 "$state/spool/$n"
		say "starting slurmd -N $n in its namespaces"
		node_exec "$n" slurmd -f "$state/slurm.conf" -N "$n" </dev/null \
			>>"$state/log/slurmd.$n.stderr" 2>&1 || { show_logs; die "slurmd of $n failed to start"; }
	done
	grep -qx slurmd "$state/started" || echo slurmd >>"$state/started"
}
