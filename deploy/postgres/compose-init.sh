#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d, deploy/compose.yaml): includes homecare.conf and creates the
# homecare role and database with deploy/postgres/init.sql.
set -eu
echo "include '/etc/homecare/postgres/homecare.conf'" >> "$PGDATA/postgresql.conf"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v password="$DB_PASSWORD" -f /etc/homecare/postgres/init.sql
