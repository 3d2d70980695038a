"""The SQLite writer: one thread owns the write connection and commits queued jobs in groups.

Jobs that arrive while a commit is being made wait for the next one and share it: each job runs
in its own savepoint (a failing job undoes only itself), then one COMMIT (one fsync) makes the
whole group durable, and only then does each caller get its answer.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ascn.errors import InternalError, ServiceUnavailable

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
MAX_GROUP = 64


class _Request:
    __slots__ = ("future", "job", "loop", "transaction")

    def __init__(self, job: Job, transaction: bool) -> None:
        self.job = job
        self.transaction = transaction
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[Any] = self.loop.create_future()

    def settle(self, result: Any, error: BaseException | None) -> None:
        def apply() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        self.loop.call_soon_threadsafe(apply)


class Writer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="ascn-sqlite-writer", daemon=True)
        self._thread.start()

    async def transaction(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run a job inside a transaction; return once it is committed."""
        request = _Request(job, True)
        self._queue.put(request)
        result: T = await request.future
        return result

    async def alone(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run a job that manages its own transactions (migrations)."""
        request = _Request(job, False)
        self._queue.put(request)
        result: T = await request.future
        return result

    def stop(self) -> None:
        """Finish every queued job, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _serve(self) -> None:
        connection = self._connect()
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                stopping = False
                while len(group) < MAX_GROUP:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stopping = True
                        break
                    group.append(more)
                self._run(connection, group)
                if stopping:
                    return
        finally:
            connection.close()

    def _run(self, connection: sqlite3.Connection, group: list[_Request]) -> None:
        batch = [r for r in group if r.transaction]
        for request in group:
            if not request.transaction:
                try:
                    request.settle(request.job(connection), None)
                except BaseException as error:
                    request.settle(None, translate(error))
        if batch:
            self._commit_group(connection, batch)

    def _commit_group(self, connection: sqlite3.Connection, batch: list[_Request]) -> None:
        outcomes: list[tuple[_Request, Any, BaseException | None]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for request in batch:
                connection.execute("SAVEPOINT job")
                try:
                    result = request.job(connection)
                except BaseException as error:
                    connection.execute("ROLLBACK TO job")
                    connection.execute("RELEASE job")
                    outcomes.append((request, None, translate(error)))
                else:
                    connection.execute("RELEASE job")
                    outcomes.append((request, result, None))
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            failure = translate(error)
            for request in batch:
                request.settle(None, failure)
            return
        for request, result, problem in outcomes:
            request.settle(result, problem)


def translate(error: BaseException) -> BaseException:
    """Driver errors become the node's errors here, at the store's edge."""
    if isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    ):
        return ServiceUnavailable("the store is busy, retry")
    if isinstance(error, sqlite3.Error):
        return InternalError(f"store error: {error}")
    return error
