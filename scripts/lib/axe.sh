# shellcheck shell=bash
# axe-core for the accessibility checks of the browser tests. The npm
# package, at a pinned version, goes into a cache folder outside the repo
# (one folder per version, so a bump installs beside the old one); its
# axe.min.js is exported as HERALD_TEST_AXE. The tests skip the checks
# only when HERALD_TEST_AXE is absent outside CI, so we always provide it.
# Sourced after common.sh.

AXE_CORE_VERSION=4.14.1

setup_axe() {
	# A caller's own copy wins.
	if [[ -n ${HERALD_TEST_AXE:-} ]]; then
		[[ -f $HERALD_TEST_AXE ]] || die "HERALD_TEST_AXE=$HERALD_TEST_AXE is not a file"
		export HERALD_TEST_AXE
		return 0
	fi
	local dir=${XDG_CACHE_HOME:-$HOME/.cache}/herald/axe-core-$AXE_CORE_VERSION
	local file=$dir/node_modules/axe-core/axe.min.js
	if [[ ! -f $file ]]; then
		if ! command -v npm >/dev/null; then
			apt_install npm
		fi
		say "npm install axe-core@$AXE_CORE_VERSION into $dir"
		mkdir -p "$dir"
		# --prefix: a private node_modules, never the repo's or a global one.
		npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock \
			--loglevel=error "axe-core@$AXE_CORE_VERSION" </dev/null ||
			die "npm could not install axe-core@$AXE_CORE_VERSION (see above)"
		[[ -f $file ]] || die "installed axe-core@$AXE_CORE_VERSION but $file is missing"
	fi
	export HERALD_TEST_AXE=$file
}
