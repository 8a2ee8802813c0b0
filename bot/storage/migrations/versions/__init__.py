"""The migration scripts, one revision each, numbered on from SQLite's old user_version."""
