# shellcheck shell=bash
# PostgreSQL for the tests. setup_postgres exports HERALD_TEST_POSTGRES_URL,
# taken from the first of:
#   1. HERALD_TEST_POSTGRES_URL already set by the caller;
#   2. a PostgreSQL answering on 127.0.0.1:5432 (a developer's or CI's own);
#   3. a private throwaway cluster in a temporary folder, started here and
#      stopped by stop_private_postgres (the caller traps EXIT on it).
# HERALD_TEST_PG=private skips 1 and 2, so that path can be tested anywhere.
# Sourced after common.sh.

PG_SOURCE=""       # where the URL came from, for the summary
PG_TMP=""          # private cluster folder; non-empty once we created it
PG_BIN=""          # Debian's versioned bin folder of the private cluster
PG_START_SECONDS="" # how long the private cluster took to be ready

setup_postgres() {
	case "${HERALD_TEST_PG:-auto}" in
	auto) use_given_or_local_postgres || start_private_postgres ;;
	private) start_private_postgres ;;
	*) die "HERALD_TEST_PG must be 'auto' or 'private', not '${HERALD_TEST_PG}'" ;;
	esac
	export HERALD_TEST_POSTGRES_URL
}

# use_given_or_local_postgres succeeds when no private cluster is needed.
use_given_or_local_postgres() {
	if [[ -n ${HERALD_TEST_POSTGRES_URL:-} ]]; then
		# Fail now with a plain message rather than in every test later.
		if psql_bin >/dev/null && ! pg_answers "$HERALD_TEST_POSTGRES_URL"; then
			die "HERALD_TEST_POSTGRES_URL is set but PostgreSQL does not answer there"
		fi
		PG_SOURCE="HERALD_TEST_POSTGRES_URL from the environment"
		return 0
	fi
	local url
	if url=$(local_postgres_url); then
		HERALD_TEST_POSTGRES_URL=$url
		PG_SOURCE="local server on 127.0.0.1:5432"
		return 0
	fi
	return 1
}

# local_postgres_url prints a URL for the server on 127.0.0.1:5432 with the
# first role that can log in without a password, or fails.
local_postgres_url() {
	psql_bin >/dev/null || return 1
	# A closed port answers at once; this keeps us from waiting on psql.
	(exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null || return 1
	local role url
	for role in postgres "$(id -un)"; do
		url="postgres://${role}@127.0.0.1:5432/postgres?sslmode=disable"
		if pg_answers "$url"; then
			printf '%s\n' "$url"
			return 0
		fi
	done
	return 1
}

# pg_answers URL succeeds when we can run a query there. -w: never ask for
# a password (no stdin in CI); the timeout keeps a dead server from hanging us.
pg_answers() {
	PGCONNECT_TIMEOUT=5 "$(psql_bin)" -w -X -At -d "$1" -c 'select 1' </dev/null >/dev/null 2>&1
}

# psql_bin prints a psql client: the one on PATH, or Debian's versioned one.
psql_bin() {
	if command -v psql; then return 0; fi
	local bin
	bin=$(newest_pg_bin) || return 1
	[[ -x $bin/psql ]] && printf '%s\n' "$bin/psql"
}

# newest_pg_bin prints the newest /usr/lib/postgresql/N/bin that has initdb.
newest_pg_bin() {
	local dirs=(/usr/lib/postgresql/*/bin/initdb)
	[[ -x ${dirs[0]} ]] || return 1
	printf '%s\n' "${dirs[@]%/initdb}" | sort -V | tail -n 1
}

start_private_postgres() {
	local started port
	started=$(now_us)
	ensure_postgres_binaries
	ensure_postgres_user
	make_private_pg_folder
	say "initdb in $PG_TMP/data ($PG_BIN)"
	# No fsync: the data is thrown away at exit, and CI disks are slow.
	as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" --username=postgres --auth=trust \
		--encoding=UTF8 --no-locale --no-sync >"$PG_TMP/initdb.log" 2>&1 ||
		die "initdb failed: $(cat "$PG_TMP/initdb.log")"
	port=$(start_on_free_port) || die "private PostgreSQL did not start: $(tail -n 20 "$PG_TMP/postgres.log")"
	HERALD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"
	pg_answers "$HERALD_TEST_POSTGRES_URL" || die "private PostgreSQL started but does not answer on port $port"
	PG_START_SECONDS=$(seconds_since "$started")
	PG_SOURCE="private cluster on 127.0.0.1:$port in $PG_TMP"
	say "private PostgreSQL ready on 127.0.0.1:$port in ${PG_START_SECONDS}s"
}

ensure_postgres_binaries() {
	if ! PG_BIN=$(newest_pg_bin); then
		apt_install postgresql
		PG_BIN=$(newest_pg_bin) || die "installed postgresql but found no /usr/lib/postgresql/*/bin/initdb"
	fi
}

# PostgreSQL refuses to run as root, so as root we run it as the usual
# `postgres` system user (the Debian package creates it; a bare machine may not).
ensure_postgres_user() {
	((EUID == 0)) || return 0
	id -u postgres >/dev/null 2>&1 && return 0
	say "creating system user postgres"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin postgres || die "could not create the postgres user"
}

# make_private_pg_folder creates PG_TMP, owned by whoever runs the server.
# As root it lives in /tmp: the postgres user cannot reach root's own TMPDIR.
make_private_pg_folder() {
	local parent=${TMPDIR:-/tmp}
	((EUID == 0)) && parent=/tmp
	PG_TMP=$(mktemp -d "$parent/herald-pg.XXXXXX") || die "could not create a temporary folder in $parent"
	if ((EUID == 0)); then chown postgres: "$PG_TMP"; fi
}

# as_pg runs a PostgreSQL program as the server's owner, from PG_TMP
# (the postgres user may not be allowed into the current folder).
as_pg() {
	if ((EUID == 0)); then
		(cd "$PG_TMP" && runuser -u postgres -- "$@")
	else
		(cd "$PG_TMP" && "$@")
	fi
}

# start_on_free_port starts the server and prints its port. A port free when
# we look may be taken before the server binds it, so try a few.
start_on_free_port() {
	local attempt port
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		say "starting private PostgreSQL on 127.0.0.1:$port (attempt $attempt)"
		# TCP on loopback only; the unix socket stays in our folder, not /run.
		if as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
			start >/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	return 1
}

# free_port prints a random port in 20000-59999 with nothing listening on it.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
}

# stop_private_postgres stops the cluster we started, if any, and removes its
# folder. Safe to call at any point, more than once.
stop_private_postgres() {
	[[ -n $PG_TMP ]] || return 0
	if [[ -f $PG_TMP/data/postmaster.pid ]]; then
		say "stopping private PostgreSQL"
		as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			warn "could not stop the private PostgreSQL in $PG_TMP"
	fi
	rm -rf -- "$PG_TMP"
	PG_TMP=""
}

# The fault suite restarts a PostgreSQL under running Herald nodes. That must
# never be the server the other tests share, so with HERALD_TEST_PG_RESTART=1
# setup_restartable_postgres starts a second private cluster and exports
#   HERALD_TEST_PG_RESTART_URL  its URL
#   HERALD_TEST_PG_RESTART_CMD  a shell command that restarts it (fast mode)
# It borrows start_private_postgres, keeping the main cluster's variables.
PG_RESTART_TMP="" # the restartable cluster's folder, once started

setup_restartable_postgres() {
	[[ ${HERALD_TEST_PG_RESTART:-} == 1 ]] || return 0
	local main_tmp=$PG_TMP main_url=$HERALD_TEST_POSTGRES_URL main_source=$PG_SOURCE main_seconds=$PG_START_SECONDS
	PG_TMP=""
	start_private_postgres
	PG_RESTART_TMP=$PG_TMP
	HERALD_TEST_PG_RESTART_URL=$HERALD_TEST_POSTGRES_URL
	local pg_ctl="$PG_BIN/pg_ctl -D $PG_TMP/data -l $PG_TMP/postgres.log -w -t 60 restart -m fast"
	if ((EUID == 0)); then pg_ctl="runuser -u postgres -- $pg_ctl"; fi
	HERALD_TEST_PG_RESTART_CMD="cd $PG_TMP && $pg_ctl >/dev/null"
	PG_TMP=$main_tmp HERALD_TEST_POSTGRES_URL=$main_url PG_SOURCE=$main_source PG_START_SECONDS=$main_seconds
	export HERALD_TEST_PG_RESTART_URL HERALD_TEST_PG_RESTART_CMD
}

# stop_restartable_postgres stops and removes it; safe to call at any point.
stop_restartable_postgres() {
	[[ -n $PG_RESTART_TMP ]] || return 0
	local main_tmp=$PG_TMP
	PG_TMP=$PG_RESTART_TMP
	stop_private_postgres
	PG_TMP=$main_tmp PG_RESTART_TMP=""
}
