"""Delivery of notifications from the outbox, in order per subscription, over HTTP POST or MQTT.

A notification leaves the outbox only once its receiver took it (HTTP 2xx, or the MQTT broker
accepted it). A failed attempt is retried after a delay that starts at `first_retry` seconds and
doubles up to `max_retry`; the later notifications of that subscription wait behind it, so their
order holds. A notification still undelivered `give_up` seconds after it was written is
dropped with all the subscription's others, and the subscription is marked failed with the
reason. Delivery runs beside the writes and never holds them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiomqtt
import orjson

from ascn.ngsild.timestamps import now
from ascn.store import Store
from ascn.store.base import Outgoing

log = logging.getLogger("ascn.delivery")
BATCH = 500
CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class Policy:
    first_retry: float = 2.0
    max_retry: float = 30.0
    give_up: float = 3600.0
    timeout: float = 10.0


@dataclass(slots=True)
class Outcome:
    """What a round did with one subscription's notifications."""

    delivered: list[int] = field(default_factory=list)
    """Notifications to remove from the outbox: delivered, or given up."""
    retries: list[tuple[int, int, int]] = field(default_factory=list)
    drop: bool = False
    """Whether the subscription's notifications are all dropped (it is gone)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """How sending one notification went."""

    ok: bool
    at: str
    reason: str = ""


Lookup = Callable[[str, str], dict[str, Any] | None]
"""The current subscription of (tenant, id), None if it is gone."""
Report = Callable[[str, str, list[Attempt], str | None], Awaitable[None]]
"""Told, per subscription and round, how its attempts went (and why it gave up, if it did)."""


class Delivery:
    def __init__(self, store: Store, lookup: Lookup, report: Report, policy: Policy) -> None:
        self.store = store
        self.lookup = lookup
        self.report = report
        self.policy = policy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
            skip_auto_headers=("User-Agent",),
        )
        self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.round()
            except Exception:  # a failed round is logged and retried; delivery goes on
                log.exception("delivery round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5)
                self._wake.clear()

    async def round(self) -> bool:
        """Send what is due; whether there was anything. Settled in one write per round."""
        due = await self.store.due_notifications(_ms(), BATCH)
        if not due:
            return False
        groups: dict[tuple[str, str], list[Outgoing]] = {}
        for item in due:
            groups.setdefault((item.tenant, item.subscription_id), []).append(item)
        limit = asyncio.Semaphore(CONCURRENCY)
        delivered: list[int] = []
        retries: list[tuple[int, int, int]] = []
        dropped: list[tuple[str, str]] = []

        async def send_group(key: tuple[str, str], items: list[Outgoing]) -> None:
            async with limit:
                outcome = await self._group(key[0], key[1], items)
            delivered.extend(outcome.delivered)
            retries.extend(outcome.retries)
            if outcome.drop:
                dropped.append(key)

        await asyncio.gather(*(send_group(k, v) for k, v in groups.items()))
        await self.store.settle_notifications(delivered, retries)
        for tenant, subscription_id in dropped:
            await self.store.drop_notifications(tenant, subscription_id)
        return len(due) == BATCH or bool(delivered)

    async def _group(self, tenant: str, subscription_id: str, items: list[Outgoing]) -> Outcome:
        subscription = self.lookup(tenant, subscription_id)
        if subscription is None:
            return Outcome(drop=True)
        outcome = Outcome()
        attempts: list[Attempt] = []
        for position, item in enumerate(items):
            attempt = await self._send(subscription, item)
            attempts.append(attempt)
            if attempt.ok:
                outcome.delivered.append(item.seq)
                continue
            if _ms() - item.created > self.policy.give_up * 1000:
                # Given up: this round's notifications go (later ones are still sent).
                reason = f"undelivered for {self.policy.give_up:.0f} s: {attempt.reason}"
                outcome.delivered.extend(i.seq for i in items[position:])
                await self.report(tenant, subscription_id, attempts, reason)
                return outcome
            delay = min(self.policy.max_retry, self.policy.first_retry * 2**item.attempts)
            later = _ms() + int(delay * 1000)
            outcome.retries = [(i.seq, i.attempts + (i is item), later) for i in items[position:]]
            break
        await self.report(tenant, subscription_id, attempts, None)
        return outcome

    async def _send(self, subscription: dict[str, Any], item: Outgoing) -> Attempt:
        endpoint = subscription["notification"]["endpoint"]
        moment = now()
        body = orjson.dumps({**item.body, "notifiedAt": moment})
        uri = endpoint["uri"]
        try:
            if urlsplit(uri).scheme in ("mqtt", "mqtts"):
                await _publish(uri, endpoint, item.headers, body, self.policy.timeout)
                return Attempt(True, moment)
            assert self._session is not None
            async with self._session.post(uri, data=body, headers=item.headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return Attempt(True, moment)
                return Attempt(False, moment, f"the receiver answered {response.status}")
        except (aiohttp.ClientError, aiomqtt.MqttError, TimeoutError, OSError, ValueError) as error:
            return Attempt(False, moment, f"{type(error).__name__}: {error}"[:300])


async def _publish(
    uri: str, endpoint: dict[str, Any], headers: dict[str, str], body: bytes, timeout: float
) -> None:
    """Publish to the topic the URI's path names, as {"metadata": headers, "body": ...}."""
    parts = urlsplit(uri)
    info = {pair["key"]: pair["value"] for pair in endpoint.get("notifierInfo", ())}
    qos = int(info.get("MQTT-QoS", "0"))
    version = info.get("MQTT-Version", "mqtt3.1.1")
    protocol = aiomqtt.ProtocolVersion.V5 if version == "mqtt5.0" else aiomqtt.ProtocolVersion.V311
    payload = b'{"metadata":' + orjson.dumps(headers) + b',"body":' + body + b"}"
    async with aiomqtt.Client(
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        username=parts.username,
        password=parts.password,
        protocol=protocol,
        timeout=timeout,
        tls_params=aiomqtt.TLSParameters() if parts.scheme == "mqtts" else None,
    ) as client:
        await client.publish(parts.path.lstrip("/"), payload, qos=min(qos, 2))


def _ms() -> int:
    return int(time.time() * 1000)
