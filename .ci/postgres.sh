#!/usr/bin/env bash
# Starts a PostgreSQL server for the tests (installing the Debian package where it is missing),
# creates the test role `campus` (password `campus`, CREATEDB) and database `campus_test`,
# and exports SYNC_TEST_DATABASE_URL. Sourced by .ci/run; run as root (it uses `su postgres`).
# Locally: `source .ci/postgres.sh && cargo test -p sync-store`.

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  echo "PostgreSQL is not installed: installing the Debian package postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The first cluster: version, name, port, status.
read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters -h | head -n 1)
if [ "$pg_status" != "online" ]; then
  pg_ctlcluster "$pg_version" "$pg_cluster" start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$pg_port"

su postgres -c "psql -q -p $pg_port -v ON_ERROR_STOP=1" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'campus') THEN
    CREATE ROLE campus LOGIN PASSWORD 'campus' CREATEDB;
  END IF;
END
$$;
SELECT 'CREATE DATABASE campus_test OWNER campus'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'campus_test') \gexec
SQL

export SYNC_TEST_DATABASE_URL="postgres://campus:campus@127.0.0.1:$pg_port/campus_test"
echo "PostgreSQL $pg_version ($pg_cluster) on port $pg_port: SYNC_TEST_DATABASE_URL set"
