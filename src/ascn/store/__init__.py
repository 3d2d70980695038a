"""Persistence behind one Store protocol; `open_store` picks the backend from the store URL."""

from __future__ import annotations

from ascn.errors import InvalidSetting
from ascn.store.base import CatalogRow, Changes, ContextRecord, Store


def open_store(url: str, indexed: frozenset[str] = frozenset()) -> Store:
    """The store a URL names (not yet opened); `indexed` names the attribute IRIs whose values
    it indexes."""
    if url.startswith("sqlite://"):
        from ascn.store.sqlite.store import SqliteStore

        return SqliteStore.from_url(url, indexed)
    raise InvalidSetting(f"unsupported store URL {url!r}: use sqlite:///path.db")


__all__ = ["CatalogRow", "Changes", "ContextRecord", "Store", "open_store"]
