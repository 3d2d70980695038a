"""One frozen Settings object, built once from defaults, an optional TOML file, ASCN_* variables
and command-line flags (later sources win)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ascn.errors import InvalidSetting


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = _setting("127.0.0.1", "Interface the node listens on.")
    port: int = _setting(1026, "TCP port the node listens on.")
    store: str = _setting(
        "sqlite:///data/ascn.db",
        "Where the node keeps its data: sqlite:///relative/path.db (relative to the working "
        "directory), sqlite:////absolute/path.db, or PostgreSQL with PostGIS at "
        "postgresql://user@host:port/database (add ?schema=name to use a schema other than "
        "public).",
    )
    store_pool_size: int = _setting(
        10, "Most connections the node opens to a PostgreSQL store (SQLite: unused)."
    )
    open: bool = _setting(False, "Serve without authentication (local demos and tests only).")
    max_body_bytes: int = _setting(
        16 * 1024 * 1024, "Largest request body accepted, in bytes (413 beyond)."
    )
    max_attributes: int = _setting(1000, "Most attributes an entity may carry (413 beyond).")
    max_nesting: int = _setting(
        32, "Deepest nesting of JSON objects and arrays accepted in a payload (400 beyond)."
    )
    max_batch: int = _setting(1000, "Most entities in one batch operation request (413 beyond).")
    context_cache_size: int = _setting(512, "Remote @context documents kept in the cache.")
    context_cache_seconds: int = _setting(
        3600, "How long a fetched remote @context is reused before it is fetched again."
    )
    context_fetch_timeout: float = _setting(
        5.0, "Seconds allowed to fetch a remote @context (504 LdContextNotAvailable beyond)."
    )
    context_max_bytes: int = _setting(
        1024 * 1024, "Largest remote @context document accepted, in bytes."
    )
    indexed_attributes: str = _setting(
        "",
        "Attributes whose values are indexed, so that a selective q filter on them starts from"
        " the index (comma-separated names, expanded with the core @context, or IRIs). Each"
        " one costs write throughput.",
    )
    history_retention: str = _setting(
        "",
        "How long attribute history is kept, as a number of days, hours or minutes (400d, 12h,"
        " 30m); older instances are pruned every hour. Empty: kept for ever.",
    )
    temporal_instance_limit: int = _setting(
        100,
        "Most instances of one attribute in one temporal response; longer histories are paged"
        " (206 with a Content-Range).",
    )
    notification_timeout: float = _setting(
        10.0, "Seconds a receiver has to take a notification before the attempt fails."
    )
    notification_first_retry: float = _setting(
        2.0, "Seconds before a failed notification is first retried (then doubling)."
    )
    notification_max_retry: float = _setting(
        30.0, "Most seconds between two attempts to deliver a notification."
    )
    notification_give_up: float = _setting(
        3600.0,
        "Seconds a notification is retried for; then the subscription's undelivered"
        " notifications are dropped and it is marked failed, with the reason.",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
    ) -> Settings:
        """Merge the sources, later ones winning: defaults, file, ASCN_* variables, flags."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config_file or environ.get("ASCN_CONFIG")
        if path:
            with open(path, "rb") as handle:
                values.update(tomllib.load(handle))
        for f in fields(cls):
            raw = environ.get(f"ASCN_{f.name.upper()}")
            if raw is not None:
                values[f.name] = raw
        values.update({k: v for k, v in (flags or {}).items() if v is not None})
        return cls(**{name: cls._coerce(name, value) for name, value in values.items()})

    @classmethod
    def _coerce(cls, name: str, value: Any) -> Any:
        known = {f.name: f for f in fields(cls)}
        if name not in known:
            raise InvalidSetting(f"unknown setting {name!r}")
        kind: type = type(known[name].default)
        if isinstance(value, kind):
            return value
        text = str(value).strip()
        try:
            if kind is bool:
                if text.lower() in {"1", "true", "yes", "on"}:
                    return True
                if text.lower() in {"0", "false", "no", "off", ""}:
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise InvalidSetting(f"setting {name!r}: {text!r} is not a {kind.__name__}") from None

    @staticmethod
    def help_of(name: str) -> str:
        return str(next(f for f in fields(Settings) if f.name == name).metadata["help"])

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
