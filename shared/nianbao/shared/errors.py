"""The two kinds of task failure. Tasks retry the first and record the second, never the reverse."""


class TransientError(Exception):
    """Worth retrying later: a timeout, a refused connection, a 5xx, a database that is restarting."""


class PermanentError(Exception):
    """Retrying cannot help: a malformed message, a missing raw blob, a site that is not configured."""
