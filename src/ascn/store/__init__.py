"""Persistence behind one Store protocol; `open_store` picks the backend from the store URL."""

from __future__ import annotations

from ascn.errors import InvalidSetting
from ascn.store.base import CatalogRow, Changes, ContextRecord, Erase, Store


def open_store(url: str, indexed: frozenset[str] = frozenset(), pool_size: int = 10) -> Store:
    """The store a URL names (not yet opened); `indexed` names the attribute IRIs whose values
    it indexes; `pool_size` bounds the connections of a server store."""
    if url.startswith("sqlite://"):
        from ascn.store.sqlite.store import SqliteStore

        return SqliteStore.from_url(url, indexed)
    if url.startswith(("postgresql://", "postgres://")):
        from ascn.store.postgres.store import PostgresStore

        return PostgresStore.from_url(url, indexed, pool_size)
    raise InvalidSetting(
        f"unsupported store URL {url!r}: use sqlite:///path.db or"
        " postgresql://user@host:port/database"
    )


__all__ = ["CatalogRow", "Changes", "ContextRecord", "Erase", "Store", "open_store"]
