"""How a service hands a message on: to Celery by task name, or to a collector/in-process dispatcher.

Service logic receives a :class:`Publisher` and never knows which one it is talking to.
"""

from __future__ import annotations

from typing import Any, Protocol

from nianbao.shared.contracts import Message


class Publisher(Protocol):
    def publish(self, message: Message) -> None: ...


class CeleryPublisher:
    """Sends each message as task ``message.TASK`` to queue ``message.QUEUE`` with one JSON argument."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def publish(self, message: Message) -> None:
        self.send(message)

    def send(self, message: Message) -> str:
        """Publish ``message``; the id of the task message sent."""
        result = self.app.send_task(
            message.TASK, args=[message.to_payload()], queue=message.QUEUE, argsrepr=args_repr(message)
        )
        return str(result.id)


def args_repr(message: Message) -> str:
    """What a task message shows of its argument in worker logs and task events: the message's kind and the
    site and address it is about. (Celery's default, a 1 KB ``saferepr`` of the payload, cost the parser
    ~2 % of its time on a record's ~60 KB and showed little of use.)"""
    about = " ".join(f"{name}={value}" for name in ("site_id", "url") if (value := getattr(message, name, None)))
    return f"{type(message).__name__}({about})"


class CollectingPublisher:
    """Keeps what was published; for tests and dry runs."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def publish(self, message: Message) -> None:
        self.messages.append(message)
