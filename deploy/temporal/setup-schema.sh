#!/bin/sh
# Temporal's schema in its two PostgreSQL databases, set up on the first start and upgraded to
# this admin-tools image's version on every later one (the temporal-schema service of
# docker-compose.yml, before the server starts). Safe to run again: setup-schema only records
# the initial version of a database that has none, update-schema applies the versions it does
# not have yet. The databases and their role are deploy/postgres/init-databases.sh's.
#
# temporal-sql-tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

SQL_PASSWORD="$(cat /run/secrets/temporal_db_password)"
export SQL_PASSWORD
schema=/etc/temporal/schema/postgresql/v12

for database in temporal temporal_visibility; do
    case "$database" in
        temporal) versions="$schema/temporal/versioned" ;;
        *) versions="$schema/visibility/versioned" ;;
    esac
    echo "Temporal schema of $database"
    temporal-sql-tool --database "$database" setup-schema --version 0.0
    temporal-sql-tool --database "$database" update-schema --schema-dir "$versions"
done
echo "Temporal schema up to date"
