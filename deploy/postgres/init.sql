-- homecare: the PostgreSQL role and database, created once by a superuser.
--
--   sudo -u postgres psql -f deploy/postgres/init.sql
--
-- psql asks for the role's password (or pass it with -v password=..., which other local
-- users can see in the process list while psql runs).
--
-- What it creates:
--   role     homecare   (login, no other privileges)
--   database homecare   (owned by the role, UTF8: names and addresses are Chinese)
--
-- It creates no tables. Each service keeps its tables in its own schema of this database,
-- named after the service: dispatch, scheduling, billing. `homecare migrate` (and every
-- service on start) runs CREATE SCHEMA IF NOT EXISTS "<service>" and then that service's
-- Alembic migrations inside it (alembic_version included). As owner of the database the
-- role may create those schemas; it needs nothing in the public schema.
--
-- The matching setting, in /etc/homecare/homecare.env:
--   HOMECARE_DATABASE_URL=postgresql+asyncpg://homecare:<password>@127.0.0.1:5432/homecare

\set ON_ERROR_STOP on

\if :{?password}
\else
  \prompt 'Password for the homecare role: ' password
\endif

CREATE ROLE homecare LOGIN PASSWORD :'password';

-- template0, because the encoding may differ from template1's. If the cluster's locale is
-- not UTF-8 compatible, add LOCALE 'C.UTF-8' (or another UTF-8 locale the server has).
CREATE DATABASE homecare OWNER homecare ENCODING 'UTF8' TEMPLATE template0;

\connect homecare

-- Nobody creates objects in public: every table lives in a service's schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
