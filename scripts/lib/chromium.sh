# shellcheck shell=bash
# Chromium for the browser tests. The tests skip browser checks only when
# HERALD_TEST_CHROMIUM is absent outside CI, so we always provide it.
# Sourced after common.sh.

HERALD_CHROMIUM_DEFAULT=/usr/bin/chromium

setup_chromium() {
	# A caller's own browser (say, on a machine without apt) wins.
	if [[ -n ${HERALD_TEST_CHROMIUM:-} ]]; then
		[[ -x $HERALD_TEST_CHROMIUM ]] || die "HERALD_TEST_CHROMIUM=$HERALD_TEST_CHROMIUM is not an executable"
	else
		if [[ ! -x $HERALD_CHROMIUM_DEFAULT ]]; then
			# fonts-liberation: headless pages need some font to lay out text;
			# fonts-dejavu-core: Arabic (and Hebrew) glyphs, not boxes.
			apt_install chromium fonts-liberation fonts-dejavu-core
			[[ -x $HERALD_CHROMIUM_DEFAULT ]] || die "installed chromium but $HERALD_CHROMIUM_DEFAULT is missing"
		fi
		HERALD_TEST_CHROMIUM=$HERALD_CHROMIUM_DEFAULT
	fi
	export HERALD_TEST_CHROMIUM
}
