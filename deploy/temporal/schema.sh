#!/bin/sh
# Temporal's two PostgreSQL databases, created and brought to the server's schema version with its
# own temporal-sql-tool: `temporal` (persistence) and `temporal_visibility` (SQL advanced
# visibility, which `mtf-ping-pong list --state ...` filters on). The same commands as the
# temporalio/auto-setup image's setup_postgres_schema. Run by the Compose demo's `temporal-schema`
# service (admin-tools image) and by the cluster tests' harness (test/cluster/cluster.ts), so the
# demo's setup is tested. Safe to run again: each step skips what is already there.
set -eu

: "${POSTGRES_SEEDS:?the PostgreSQL host}"
: "${POSTGRES_USER:?the PostgreSQL user}"
: "${SQL_PASSWORD:?the PostgreSQL password, read by temporal-sql-tool}"
: "${DB_PORT:=5432}"
# Where the server release's schema/postgresql/v12 is: there in the admin-tools image.
: "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
export SQL_PASSWORD

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  schema=${pair#*:}
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "schema.sh: databases temporal and temporal_visibility are at the schema of $SCHEMA_DIR"
