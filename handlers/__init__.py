"""Telegram glue: turns updates into calls on the core and results into replies."""
