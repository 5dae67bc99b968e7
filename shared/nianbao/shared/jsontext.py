"""JSON text of what nianbao stores (the record, findings' cells, the rows handed to PostgreSQL in bulk).

orjson writes a ~60 KB record about seven times faster than the standard library; what orjson refuses (an
integer beyond 64 bits, a type it does not know) goes through ``json.dumps``, which writes integers of any
size and raises for unknown types as before. Non-ASCII text is written as is, not as ``\\u`` escapes.
NaN and infinities become ``null`` (as pydantic writes them in a record's JSON); a caller that must refuse
them checks first (the store does, per number). Reading stays with the standard library: orjson would read
an integer beyond 64 bits as a float.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """``value`` as JSON text; keys that are not strings are written as ``json.dumps`` writes them."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # compact, as orjson writes: the rest of the text is the same whichever wrote it
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
