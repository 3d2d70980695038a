"""History retention: instances older than the retention period are pruned when the node
starts and then every hour."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from ascn.errors import AscnError, InvalidSetting
from ascn.store import Store

INTERVAL = 3600.0
UNITS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000}
_PERIOD = re.compile(r"^(\d+)([dhm])$")
log = logging.getLogger("ascn.retention")


def retention_ms(text: str) -> int | None:
    """A retention period ("400d", "12h", "30m") in ms; "" means keep everything."""
    if not text:
        return None
    match = _PERIOD.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidSetting(f"history retention {text!r}: use a number of days, hours or minutes")
    return int(match.group(1)) * UNITS[match.group(2)]


class Retention:
    def __init__(self, store: Store, period: str) -> None:
        self.store = store
        self.period = retention_ms(period)
        self._task: asyncio.Task[None] | None = None

    async def prune(self) -> int:
        """Remove what is older than the retention period now; how many instances were."""
        if self.period is None:
            return 0
        return await self.store.prune_history(int(time.time() * 1000) - self.period)

    def start(self) -> None:
        if self.period is not None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                pruned = await self.prune()
            except AscnError as error:
                log.warning("pruning history failed: %s", error)
            else:
                if pruned:
                    log.info("pruned %d history instances older than the retention", pruned)
            await asyncio.sleep(INTERVAL)
