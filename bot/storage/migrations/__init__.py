"""Alembic's environment and the store's migration scripts (run by bot.storage.migrate)."""
