"""Alembic environment: shared runner, this service's revisions."""

from services.infra.migrate import run_env

run_env()
