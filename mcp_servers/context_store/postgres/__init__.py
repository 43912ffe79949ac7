"""The context store on PostgreSQL + pgvector: `PostgresStorage`, the second `Storage` backend.

Needs the `postgres` extra (psycopg 3, psycopg-pool, the pgvector client); importing this package
without it raises ImportError, which `services.open_storage` turns into a start-up error in words.
"""

from .storage import PostgresStorage

__all__ = ["PostgresStorage"]
