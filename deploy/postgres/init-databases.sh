#!/bin/bash
# The databases of one PostgreSQL server, created when its data volume is first initialised
# (the postgres image runs the scripts of /docker-entrypoint-initdb.d once, on an empty
# volume; docker-compose.yml mounts this one there):
#
#   temporal, temporal_visibility   Temporal's (history and visibility), owned by the role
#                                   temporal, password from the secret temporal_db_password
#   the store's database            owned by its own role; database, role and password are
#                                   those of the secret approval_database_url
#                                   (postgresql+psycopg://ROLE:PASSWORD@postgres:5432/DATABASE)
#
# Temporal's schema is set up by the temporal-schema service, the store's by the migrate
# service. The passwords should be made of URL-safe characters (openssl rand -hex 32): the
# store's is read back out of its URL as it is written there.
set -euo pipefail

temporal_password="$(cat /run/secrets/temporal_db_password)"
store_url="$(cat /run/secrets/approval_database_url)"

# postgresql+psycopg://ROLE:PASSWORD@HOST:PORT/DATABASE?OPTIONS
rest="${store_url#*://}"
credentials="${rest%%@*}"
store_role="${credentials%%:*}"
store_password="${credentials#*:}"
store_database="${rest##*/}"
store_database="${store_database%%\?*}"
if [[ "$rest" == "$store_url" || "$credentials" == "$rest" || "$store_password" == "$credentials" \
      || -z "$store_role" || -z "$store_password" || -z "$store_database" ]]; then
    echo "approval_database_url: expected postgresql+psycopg://ROLE:PASSWORD@postgres:5432/DATABASE" >&2
    exit 1
fi

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v temporal_password="$temporal_password" \
    -v store_role="$store_role" \
    -v store_password="$store_password" \
    -v store_database="$store_database" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
CREATE ROLE :"store_role" LOGIN PASSWORD :'store_password';
CREATE DATABASE :"store_database" OWNER :"store_role";
\connect temporal_visibility
-- Temporal's visibility schema indexes with it; created here by the superuser.
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL

echo "databases temporal, temporal_visibility and ${store_database} created"
