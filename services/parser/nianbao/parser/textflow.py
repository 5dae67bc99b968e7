"""Plain text front end: text with flattened tables → :class:`Document`, and table regions → tokens.

Flattened tables come in three shapes (report-format §4.4, seeds 000–004):

* **row lines** — ``a | b | c |``: one source row per line, ``|`` after each cell, runs such as ``||||``
  for spanned (empty) cells; a line holding a lone ``|`` is one more empty cell (seed 002), and a cell
  may sit alone on its line, with or without its ``|`` (seed 004);
* **separator lines** — one cell per line with a lone ``|`` line between cells (seed 003); a cell whose
  text wraps over several lines (``(三)`` / ``不予公开``) is joined back;
* **bare lines** — one cell per line and no ``|`` at all.
"""

from __future__ import annotations

from nianbao.parser.document import Document, Item, Line, Token, token_kind
from nianbao.parser.normalize import clean_line, fold


def text_document(text: str) -> Document:
    """Split folded text into non-empty lines, keeping 1-based source line numbers."""
    numbered = enumerate(map(clean_line, fold(text).splitlines()), start=1)
    # Lines are built as tuples directly (every field given): the named tuple's generated __new__ costs
    # as much again as the cleaning, for every line of the page.
    new = tuple.__new__
    items: list[Item] = [new(Line, (c, n, True, "|" in c and c != "|")) for n, c in numbered if c]
    return Document(items=items, kind="text")


def _row_tokens(line: Line) -> list[Token]:
    text, number = line.text, line.number
    group = (-1, number)  # one source row: shared by all its tokens
    if "|" not in text:
        return [Token(text, number, group=group)]
    pieces = text.split("|")
    if text.endswith("|"):
        pieces.pop()  # the "|" after the last cell terminates it
    # Every field is given (kind too), so the tuple is built directly, as grid_tokens does: Token.__new__
    # would only pass the fields on, and this runs for every cell of every flattened table.
    new = tuple.__new__
    return [
        new(Token, (piece, number, i, None, None, group, token_kind(piece), None, None))
        for i, piece in enumerate(map(str.strip, pieces))
    ]


def tokenize_lines(lines: list[Line]) -> list[Token]:
    """The token stream of a flattened table region (any of the three shapes)."""
    if any(line.piped for line in lines):
        return [token for line in lines for token in _row_tokens(line)]
    if any(line.text == "|" for line in lines):
        return _separator_tokens(lines)
    return [Token(line.text, line.number) for line in lines]


def _separator_tokens(lines: list[Line]) -> list[Token]:
    tokens: list[Token] = []
    parts: list[str] = []
    first_line: int | None = None
    previous_was_separator = True
    for line in lines:
        if line.text == "|":
            if parts:
                tokens.append(Token("".join(parts), first_line))
            elif previous_was_separator and tokens:
                tokens.append(Token("", line.number))  # "|" "|": an empty cell
            parts, first_line, previous_was_separator = [], None, True
            continue
        if first_line is None:
            first_line = line.number
        parts.append(line.text)
        previous_was_separator = False
    if parts:
        tokens.append(Token("".join(parts), first_line))
    return tokens
