#!/usr/bin/env bash
# Runs once, on the primary's first start (mounted into
# /docker-entrypoint-initdb.d of the official postgres image): a replication
# role, a physical slot so the primary keeps the WAL the replica still needs,
# and the pg_hba line that lets the replica stream. The entrypoint restarts
# the server after init, so the pg_hba change takes effect.
set -euo pipefail

# The password comes from a compose secret file (docs/security.md).
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ] && [ -n "${POSTGRES_REPLICATION_PASSWORD_FILE:-}" ]; then
  POSTGRES_REPLICATION_PASSWORD="$(cat "$POSTGRES_REPLICATION_PASSWORD_FILE")"
fi

: "${POSTGRES_REPLICATION_USER:?}" "${POSTGRES_REPLICATION_PASSWORD:?}" "${POSTGRES_REPLICATION_SLOT:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v repl_user="$POSTGRES_REPLICATION_USER" \
  -v repl_password="$POSTGRES_REPLICATION_PASSWORD" \
  -v repl_slot="$POSTGRES_REPLICATION_SLOT" <<'SQL'
CREATE ROLE :"repl_user" WITH REPLICATION LOGIN PASSWORD :'repl_password';
SELECT pg_create_physical_replication_slot(:'repl_slot');
SQL

echo "host replication ${POSTGRES_REPLICATION_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
