#!/bin/sh
# Creates (first time) and migrates Temporal's two PostgreSQL databases, with the schema tool of the server's own
# version, whose schemas are built into it. Safe on every start: a database already there is kept, `setup-schema`
# leaves a versioned schema alone and `update-schema` applies only the versions it lacks. Run before starting a newer
# server: that is the whole upgrade. Used by docker-compose.yml (service `temporal-schema`) and `npm run cluster`.
#   POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD (may be empty), DBNAME, VISIBILITY_DBNAME as in server.env;
#   TEMPORAL_SQL_TOOL: the schema tool (`temporal-sql-tool` in the admin-tools image).
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
export SQL_PASSWORD="${POSTGRES_PWD:-}"

migrate() {
  database="$1"
  schema="$2"
  set -- --plugin postgres12 --endpoint "${POSTGRES_SEEDS:?set POSTGRES_SEEDS}" --port "${DB_PORT:-5432}" \
    --user "${POSTGRES_USER:?set POSTGRES_USER}" --database "$database"
  if "$tool" "$@" create-database >/dev/null 2>&1; then
    echo "created database $database"
  fi
  "$tool" --quiet "$@" setup-schema --version 0.0
  "$tool" --quiet "$@" update-schema --schema-name "postgresql/v12/$schema"
  echo "database $database: schema postgresql/v12/$schema is current"
}

migrate "${DBNAME:-temporal}" temporal
migrate "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
