"""Parser errors. Everything else the parser meets in a document becomes a warning in the record.

    PermanentError (nianbao.shared.errors)
     └── UnusableInput   the bytes cannot be a report at all: empty, over a limit, binary, not text
"""

from __future__ import annotations

from nianbao.shared.errors import PermanentError


class UnusableInput(PermanentError):
    """The input cannot be parsed into a record; ``reason`` is a stable short code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
