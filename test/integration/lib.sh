# shellcheck shell=bash
# Helpers for the integration tests: counted checks and a closing line
# "N passed, M failed" that CI reads.

PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; [ $# -gt 1 ] && printf '     %s\n' "${@:2}"; return 0; }

# check NAME COMMAND...: passes if the command exits 0.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}

# expect_match NAME REGEX TEXT
expect_match() {
	# a here-string, not a pipe: grep -q stopping early would SIGPIPE printf,
	# which pipefail turns into a failed match
	if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "expected /$2/ in:" "$3"; fi
}

summary() {
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

# ensure_user NAME: a non-root user for tests, created if missing.
ensure_user() {
	id -u "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$1"
}

# test_config DIR STATE_DIR APPLIANCE_DIR: DIR/hyperion.conf for TCG guests
# with the state in STATE_DIR and the catalog in DIR/images.d, whose
# DIR/images.d/test.conf has the appliance as image "default". Tests append
# what else they need to either file.
test_config() {
	mkdir -p "$1/images.d"
	cat >"$1/hyperion.conf" <<CONF
libvirt_uri = qemu:///system
domain_type = qemu
state_dir = $2
vmm_reserve_mb = 64
boot_timeout = 60
images = $1/images.d
CONF
	cat >"$1/images.d/test.conf" <<CONF
[image default]
kind = appliance
kernel = $3/vmlinuz
initrd = $3/initrd.img
CONF
}
