#!/bin/sh
# One role and one database per service, as the local launcher creates them (tools/stack/postgres.py): each
# role logs in with its password, from FULFIL_POSTGRES_<ROLE>_PASSWORD in the container's environment, and may
# connect to its own database only. The PostgreSQL image runs this once, on an empty data folder. psql reads each
# password from the environment itself (\getenv), so none is on a command line, where `ps` would show it.
set -eu

sql() {
  psql --no-psqlrc --set ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" "$@"
}

sql --command "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC"
for role in order_service warehouse_service factory_service delivery_service analytics_service monitor_service; do
  variable="FULFIL_POSTGRES_$(echo "$role" | tr '[:lower:]' '[:upper:]')_PASSWORD"
  printenv "$variable" >/dev/null || { echo "postgres-init: $variable is not set (see .env)" >&2; exit 1; }
  sql --set role="$role" --set variable="$variable" <<'SQL'
\getenv password :variable
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE CONNECT ON DATABASE :"role" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"role" TO :"role";
SQL
done
