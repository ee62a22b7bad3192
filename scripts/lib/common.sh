# shellcheck shell=bash
# Shared helpers for scripts/test: messages, timing, root and apt-get access.
# Sourced, never run; the caller sets `set -euo pipefail`.

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# now_us prints the wall clock in microseconds. EPOCHREALTIME's decimal mark
# follows the locale, so keep only the digits instead of parsing it.
now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }

# seconds_since START_US prints the time elapsed since START_US as "12.3".
seconds_since() {
	local tenths=$((($(now_us) - $1) / 100000))
	printf '%d.%d\n' $((tenths / 10)) $((tenths % 10))
}

# as_root runs a command with root rights: directly when we are root (CI),
# through passwordless sudo otherwise; never prompts, as CI has no stdin.
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "need root (or passwordless sudo) to run: $*"
	fi
}

# apt_install PACKAGE... installs Debian packages without questions.
# The package lists are refreshed once per run: a fresh machine has none,
# and stale lists point at files the mirror no longer has.
APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null ||
		die "apt-get not found: install $* with your system's package manager"
	# Wait for another apt/dpkg run (say, unattended upgrades) instead of failing at once.
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
	if ((APT_UPDATED == 0)); then
		say "apt-get update"
		as_root "${apt[@]}" update </dev/null || die "apt-get update failed (see above)"
		APT_UPDATED=1
	fi
	say "apt-get install $*"
	as_root "${apt[@]}" install --no-install-recommends "$@" </dev/null ||
		die "apt-get could not install: $* (see above)"
}
