"""Run a task's messages in batches in a prefork child: one pool job (and one transaction) for several.

Each message costs a prefork worker a job sent to a child, its accept and result messages, a task trace and,
in the validator, a transaction of its own. :func:`strategy` (a task's Celery ``Strategy``) lets a worker
send several messages of one task to a child as one job:

* the worker's consumer reads each message as Celery always does (Celery's default strategy: decoding,
  revocation, expiry, ETA, rate limits); a request that would go to the pool joins the open batch instead,
  unless it is a retry (a message with ``retries`` > 0 runs alone, as below);
* the batch goes to a child when it holds ``batch_size`` requests or ``batch_wait_s`` after its first one
  arrived, whichever comes first; one request alone goes the usual way;
* the child gives the message bodies to the handler registered for the task (:func:`register_handler`),
  which answers, per message, True (done: its effects are committed) or False (run it alone);
* the worker acknowledges each done message, and sends each other one down the usual path: the task runs
  it alone, with its own retries, failure records and time limits.

A batch job that fails as a whole (its child killed, its time limit, an exception out of the handler)
sends every one of its messages down that usual path. So batching changes what a message costs, not what
becomes of it: a message is acknowledged only once the handler said its effects are committed, and
whatever the batch could not do is done, retried or recorded by the same code as without batching.

Messages held in an open batch are unacknowledged messages like the worker's prefetched ones: a worker
stopping puts them back on the queue (kombu's ``restore_at_shutdown``), a killed one leaves them to the
visibility timeout. The worker's prefetch must be at least ``batch_size`` × concurrency for batches to
fill (the validator sets its prefetch multiplier to its batch size).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from celery.worker import state as worker_state
from celery.worker.strategy import default as default_strategy
from kombu.serialization import loads, prepare_accept_content

log = logging.getLogger(__name__)

# What a batch handler gets: one decoded payload per message (the task's single argument), or None for a
# body that does not read as one. It answers one bool per payload: True once that message's effects are
# committed, False for a message to run alone.
BatchHandler = Callable[[Sequence[Any]], Sequence[bool]]

_HANDLERS: dict[str, BatchHandler] = {}
_ACCEPT: dict[str, list[str]] = {}  # per task: the content types its bodies may have


def register_handler(task_name: str, handler: BatchHandler, *, accept: Sequence[str]) -> None:
    """Make ``handler`` run the batches of ``task_name``; done in the worker's parent before the pool forks,
    so every child has it. ``accept`` is the app's ``accept_content`` (the content types a body may have)."""
    _HANDLERS[task_name] = handler
    _ACCEPT[task_name] = sorted(prepare_accept_content(list(accept)))  # type: ignore[no-untyped-call]  # names to types


def run_batch(task_name: str, bodies: Sequence[tuple[bytes, str, str]]) -> list[bool]:
    """In a pool child: decode the bodies (Celery's ``[args, kwargs, embed]``) and run the task's handler."""
    payloads: list[Any] = []
    for body, content_type, content_encoding in bodies:
        try:
            args = loads(body, content_type, content_encoding, accept=_ACCEPT[task_name])[0]  # type: ignore[no-untyped-call]
        except Exception:  # not this worker's business here: the usual path records it
            payloads.append(None)
            continue
        payloads.append(args[0] if isinstance(args, list | tuple) and len(args) == 1 else None)
    results = [bool(done) for done in _HANDLERS[task_name](payloads)]
    if len(results) != len(bodies):
        raise RuntimeError(f"batch handler of {task_name} answered {len(results)} results for {len(bodies)} messages")
    return results


def batched_task_options(app: Any, task_name: str, handler: BatchHandler, *, size: int, wait_ms: int) -> dict[str, Any]:
    """What a service passes to ``app.task`` for ``task_name`` to be batched (none when ``size`` is 1): the
    batching strategy with ``size`` and ``wait_ms``. Registers ``handler`` and raises the app's prefetch to
    ``size`` per child: batches fill only from what the worker holds."""
    if size <= 1:
        return {}
    app.conf.worker_prefetch_multiplier = size
    register_handler(task_name, handler, accept=app.conf.accept_content)
    return {"Strategy": "nianbao.shared.batching:strategy", "batch_size": size, "batch_wait_s": wait_ms / 1000}


class _ConsumerView:
    """The worker's consumer, except where Celery's default strategy hands a request to the pool."""

    def __init__(self, consumer: Any, on_task_request: Callable[[Any], None]) -> None:
        self._consumer = consumer
        self.on_task_request = on_task_request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


class Batcher:
    """The open batch of one task in one worker (lives in the worker's parent, in its event loop)."""

    def __init__(self, task: Any, consumer: Any, *, size: int, wait_s: float) -> None:
        self.task = task
        self.consumer = consumer
        self.size = size
        self.wait_s = wait_s
        self.pending: list[Any] = []
        self._due: Any = None

    def add(self, request: Any) -> None:
        """Where Celery would send ``request`` to the pool: join the batch (a retry runs alone)."""
        if self.size <= 1 or (request.request_dict or {}).get("retries"):
            self.alone(request)
            return
        self.pending.append(request)
        if len(self.pending) >= self.size:
            self.flush()
        elif self._due is None:
            self._due = self.consumer.timer.call_after(self.wait_s, self.flush)

    def flush(self) -> None:
        """Send the open batch to a child (one request alone goes the usual way)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        batch, self.pending = self.pending, []
        if len(batch) <= 1:
            for request in batch:
                self.alone(request)
            return
        conf = self.task.app.conf
        self.consumer.pool.apply_async(
            run_batch,
            args=(self.task.name, [(r.body, r.content_type, r.content_encoding) for r in batch]),
            callback=partial(self._done, batch),
            error_callback=partial(self._failed, batch),
            soft_timeout=self.task.soft_time_limit or conf.task_soft_time_limit,
            timeout=self.task.time_limit or conf.task_time_limit,
        )

    def _done(self, batch: list[Any], results: Sequence[bool]) -> None:
        for request, done in zip(batch, results, strict=True):
            if done:
                request.acknowledge()
                worker_state.task_ready(request, successful=True)
            else:
                self.alone(request)

    def _failed(self, batch: list[Any], exc_info: Any) -> None:
        # billiard hands over the exception wrapped (ExceptionInfo, ExceptionWithTraceback): name the real one
        exception = getattr(exc_info, "exception", exc_info)
        exception = getattr(exception, "exc", exception)
        log.warning("a batch of %d %s messages failed as a whole (%s: %s); each runs alone",
                    len(batch), self.task.name, type(exception).__name__, exception)  # fmt: skip
        for request in batch:
            self.alone(request)

    def alone(self, request: Any) -> None:
        """The usual path: the worker sends ``request`` to the pool as one task."""
        self.consumer.on_task_request(request)


def strategy(task: Any, app: Any, consumer: Any, **kwargs: Any) -> Any:
    """Celery ``Strategy`` of a batched task (its ``batch_size`` and ``batch_wait_s`` attributes)."""
    batcher = Batcher(task, consumer, size=int(task.batch_size), wait_s=float(task.batch_wait_s))
    return default_strategy(task, app, _ConsumerView(consumer, batcher.add), **kwargs)


__all__ = ["BatchHandler", "Batcher", "batched_task_options", "register_handler", "run_batch", "strategy"]
