# shellcheck shell=sh
# What Hyperion's Torque scripts share (sourced). Settings come from
# hyperion.env beside the scripts (in mom_priv), else /etc/hyperion/torque.env:
#   HYPERION_PBS     hyperion-pbs (default /usr/local/libexec/hyperion/hyperion-pbs)
#   HYPERION_CONFIG  hyperion.conf (default: hyperion-pbs's own default)
#   HYPERION_NODE    the mom's node name (default: hostname -s, as pbs_mom)
#   HYPERION_EXEC    hyperion-exec (default: hyperion-pbs's own default)
dir=$(dirname "$0")
if [ -r "$dir/hyperion.env" ]; then
	. "$dir/hyperion.env"
elif [ -r /etc/hyperion/torque.env ]; then
	. /etc/hyperion/torque.env
fi
: "${HYPERION_PBS:=/usr/local/libexec/hyperion/hyperion-pbs}"
: "${HYPERION_NODE:=$(hostname -s)}"
# hyp COMMAND ARGS...: hyperion-pbs with the settings before its command
hyp() {
	c=$1
	shift
	set -- "$c" "$@"
	[ -z "${HYPERION_EXEC:-}" ] || set -- --exec "$HYPERION_EXEC" "$@"
	[ -z "${HYPERION_CONFIG:-}" ] || set -- --config "$HYPERION_CONFIG" "$@"
	"$HYPERION_PBS" "$@"
}
