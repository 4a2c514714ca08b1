#!/bin/sh
# The registry's two database roles (docs/deployment.md says why there are two):
#   registry_owner  owns the database and its tables; only migrations and grants connect as it
#   registry_app    what the web server and the workers connect as; grant_app_role gives it
#                   its table privileges after every migrate
# The postgres image runs this once, on an empty data directory. Run it again by hand to change
# the passwords or to move a database made by an older compose file (whose tables belong to the
# server's superuser) to these roles:
#   docker compose exec -e POSTGRES_USER=<that superuser> db /docker-entrypoint-initdb.d/10-registry-roles.sh
# REGISTRY_DB_OWNER and REGISTRY_DB_APP name the roles otherwise (the URLs must say the same).
# No `set -u`: the image sources this file instead of running it when it is not executable.
set -e
: "${REGISTRY_DB_OWNER_PASSWORD:?set REGISTRY_DB_OWNER_PASSWORD in docker/.env}"
: "${REGISTRY_DB_APP_PASSWORD:?set REGISTRY_DB_APP_PASSWORD in docker/.env}"

owner="${REGISTRY_DB_OWNER:-registry_owner}"
app="${REGISTRY_DB_APP:-registry_app}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" -v owner="$owner" -v app="$app" \
    -v owner_password="$REGISTRY_DB_OWNER_PASSWORD" \
    -v app_password="$REGISTRY_DB_APP_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec

ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
-- NOINHERIT as well: should it ever be made a member of another role, it still would not act as
-- that role without an explicit SET ROLE (which grant_app_role refuses for a superuser role).
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT PASSWORD :'app_password';

ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
-- Only the registry's roles connect; only the owner creates anything.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- A database migrated before these roles existed: its tables and the audit trigger's function
-- pass to the owner (the sequences of identity columns follow their tables).
SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, :'owner')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relowner <> :'owner'::regrole
\gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.proowner <> :'owner'::regrole
\gexec
SQL
