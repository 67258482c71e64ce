"""The Alembic migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import dialer.models  # noqa: F401
from dialer.config import to_driver_url
from dialer.db import make_sync_engine
from dialer.migrations import alembic_config


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = make_sync_engine(to_driver_url(database_url, asynchronous=False))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = make_sync_engine(to_driver_url(database_url, asynchronous=False))
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        assert {"notification", "attempt", "api_key"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
