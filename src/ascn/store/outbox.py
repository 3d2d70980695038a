"""The outbox's rows and SQL, shared by every backend (`?` marks parameters)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson

from ascn.store.base import Notification, Outgoing

OUTBOX_INSERT = (
    "INSERT INTO outbox (tenant, subscription_id, headers, body, created_ms) VALUES (?, ?, ?, ?, ?)"
)
OUTBOX_DUE = (
    "SELECT seq, tenant, subscription_id, headers, body, attempts, created_ms FROM outbox o"
    " WHERE next_ms <= ? AND NOT EXISTS (SELECT 1 FROM outbox w WHERE w.tenant = o.tenant"
    " AND w.subscription_id = o.subscription_id AND w.seq < o.seq AND w.next_ms > ?)"
    " ORDER BY seq LIMIT ?"
)
"""Due notifications, none of them behind an earlier one of its subscription that waits for a
retry (so that a subscription's notifications keep their order)."""


def outbox_rows(tenant: str, notifications: list[Notification]) -> list[tuple[Any, ...]]:
    created = int(time.time() * 1000)
    return [
        (
            tenant,
            subscription_id,
            orjson.dumps(headers).decode(),
            orjson.dumps(body).decode(),
            created,
        )
        for subscription_id, headers, body in notifications
    ]


def outgoing(row: Sequence[Any]) -> Outgoing:
    seq, tenant, subscription_id, headers, body, attempts, created = row
    return Outgoing(
        seq, tenant, subscription_id, orjson.loads(headers), orjson.loads(body), attempts, created
    )
