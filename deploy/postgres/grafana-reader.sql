-- The read-only role Grafana's PostgreSQL data source logs in as. Run by the `db-readonly` service after
-- every migration (idempotent):
--   psql -v ON_ERROR_STOP=1 -v reader_password=SECRET [-v reader_role=NAME] -f grafana-reader.sql
-- reader_role defaults to grafana_reader (the tests pass a name of their own).
\if :{?reader_role}
\else
  \set reader_role grafana_reader
\endif

SELECT format('CREATE ROLE %I LOGIN', :'reader_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader_role') \gexec

ALTER ROLE :"reader_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_password';
-- Dashboards only read; a runaway panel query must not hold locks or a connection for long.
ALTER ROLE :"reader_role" SET default_transaction_read_only = on;
ALTER ROLE :"reader_role" SET statement_timeout = '30s';

GRANT CONNECT ON DATABASE :"DBNAME" TO :"reader_role";
GRANT USAGE ON SCHEMA public TO :"reader_role";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader_role";
-- Tables that later migrations create (as the role running them) become readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"reader_role";
