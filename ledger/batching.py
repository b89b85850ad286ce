"""Group commit: many small units of work in one database transaction when requests pile up.

A commit costs a WAL flush, and a transaction that debits a hot, limited account (every hold on
one big voucher) holds that account's row lock until its commit is flushed, so such writers go
one commit at a time. :class:`GroupCommitter` queues submitted work and runs everything that has
piled up, up to ``max_batch`` items, in one transaction: the row lock is taken once and the
flush is shared. When nothing is queued a submission runs alone, with no added latency.

Each item is a function of the session, like ``run_transaction``'s ``work``, and must be safe to
run again: if one item raises, the transaction is rolled back, that item gets its exception, and
the others run again without it; a retryable failure (deadlock, lost connection) reruns the whole
batch; if the commit itself fails for another reason, every item is retried in its own
transaction so the failure lands on the item that caused it. Refused ledger outcomes are values,
not exceptions, so they are committed (remembered) with the batch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError

from ledger.retry import DEFAULT_ATTEMPTS, UnitOfWork, Work, backoff, is_retryable, run_transaction

T = TypeVar("T")


@dataclass(slots=True)
class _Item(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]


class _ItemFailed(Exception):
    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class GroupCommitter:
    """Runs submitted units of work together, up to ``max_batch`` per commit."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        *,
        max_batch: int = 32,
        concurrency: int = 1,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        if max_batch < 1 or concurrency < 1 or attempts < 1:
            raise ValueError("max_batch, concurrency and attempts must be at least 1")
        self._unit_of_work = unit_of_work
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._attempts = attempts
        self._queue: deque[_Item[Any]] = deque()
        self._drainers: set[asyncio.Task[None]] = set()
        # Counted by hand, not by len(_drainers): a drainer that found the queue empty must stop
        # counting at that very moment, or a submission in between would wait for ever.
        self._running = 0
        #: Committed batches and the items in them, for monitoring and benchmarks.
        self.batches = 0
        self.items = 0

    async def submit(self, work: Work[T]) -> T:
        """Run ``work`` in the next batch and return its result once that batch committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(work, future))
        if self._running < self._concurrency:
            self._running += 1
            drainer = asyncio.create_task(self._drain())
            self._drainers.add(drainer)
            drainer.add_done_callback(self._drainers.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                count = min(self._max_batch, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._run(batch)
                except BaseException as error:  # never leave a submitter waiting for ever
                    for item in batch:
                        _settle(item.future, error=error)
                    if not isinstance(error, Exception):
                        raise
        finally:
            self._running -= 1

    async def _run(self, batch: list[_Item[Any]]) -> None:
        attempt = 1
        while batch:
            try:
                results = await self._once(batch)
            except _ItemFailed as failed:
                item = batch.pop(failed.index)
                if is_retryable(failed.error):
                    batch.insert(failed.index, item)
                else:
                    _settle(item.future, error=failed.error)
                    continue
            except DBAPIError as error:
                if not is_retryable(error):
                    await self._one_by_one(batch)
                    return
            else:
                self.batches += 1
                self.items += len(batch)
                for item, result in zip(batch, results, strict=True):
                    _settle(item.future, result)
                return
            if attempt >= self._attempts:
                await self._one_by_one(batch)
                return
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _once(self, batch: list[_Item[Any]]) -> list[Any]:
        results: list[Any] = []
        async with self._unit_of_work() as session:
            for index, item in enumerate(batch):
                try:
                    results.append(await item.work(session))
                except Exception as error:
                    raise _ItemFailed(index, error) from error
        return results

    async def _one_by_one(self, batch: list[_Item[Any]]) -> None:
        for item in batch:
            try:
                result = await run_transaction(
                    self._unit_of_work, item.work, attempts=self._attempts
                )
            except Exception as error:
                _settle(item.future, error=error)
            else:
                _settle(item.future, result)


def _settle(
    future: asyncio.Future[Any], result: Any = None, error: BaseException | None = None
) -> None:
    """Complete a submitter's future unless it gave up waiting (was cancelled)."""
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
