"""Bringing a database's schema up to date with Alembic, from code (the CLI, the demo, tests)."""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from dialer.resources import resource_dir

__all__ = ["alembic_config", "head_revision", "upgrade_to_head"]


def alembic_config(database_url: str) -> Config:
    # No alembic.ini: an installed wheel has none, and the dialer configures its own logging.
    config = Config()
    config.set_main_option("script_location", str(resource_dir("alembic")))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
