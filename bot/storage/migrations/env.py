"""Alembic's environment: runs on the connection `bot.storage.migrate` hands over, inside its
transaction (never from an alembic.ini, never configuring logging)."""

from alembic import context

from bot.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
