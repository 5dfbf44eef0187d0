#!/usr/bin/env bash
# Entrypoint of postgres-replica (runs as the postgres user): on first start,
# clone the primary with pg_basebackup (-R writes standby.signal and
# primary_conninfo, so the server comes up as a hot standby streaming from
# the slot); then hand over to the image's own entrypoint, which skips initdb
# because the data directory is already populated.
set -euo pipefail

# The password comes from a compose secret file (docs/security.md).
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ] && [ -n "${POSTGRES_REPLICATION_PASSWORD_FILE:-}" ]; then
  POSTGRES_REPLICATION_PASSWORD="$(cat "$POSTGRES_REPLICATION_PASSWORD_FILE")"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:?}" "${POSTGRES_REPLICATION_USER:?}" "${POSTGRES_REPLICATION_PASSWORD:?}" "${POSTGRES_REPLICATION_SLOT:?}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h "$PRIMARY_HOST" -p 5432; do
    echo "replica: waiting for $PRIMARY_HOST"
    sleep 1
  done
  # A clone interrupted earlier leaves files behind; pg_basebackup wants an
  # empty directory.
  find "$PGDATA" -mindepth 1 -delete
  echo "replica: cloning $PRIMARY_HOST (slot $POSTGRES_REPLICATION_SLOT)"
  PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" pg_basebackup \
    --host="$PRIMARY_HOST" --username="$POSTGRES_REPLICATION_USER" \
    --pgdata="$PGDATA" --wal-method=stream --slot="$POSTGRES_REPLICATION_SLOT" \
    --write-recovery-conf --checkpoint=fast --no-password
  chmod 0700 "$PGDATA"
fi

exec docker-entrypoint.sh postgres "$@"
