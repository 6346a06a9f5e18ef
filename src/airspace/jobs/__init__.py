"""Background jobs on Huey: SQLite-backed in process, or Redis-backed across workers."""
