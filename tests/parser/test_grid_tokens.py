"""``grid_tokens`` builds its tokens as bare tuples (for speed): they must be the tokens ``Token`` itself
builds from the same cells, kind included, and behave as tokens."""

from __future__ import annotations

from nianbao.parser.document import EMPTY, TEXT, VALUE, Grid, GridCell, Token, grid_tokens


def test_grid_tokens_equal_tokens_built_one_by_one() -> None:
    cells = [
        [GridCell("申请人情况", 0, 0, 1, 2), GridCell("自然人", 0, 2)],
        [GridCell("12", 1, 0), GridCell("", 1, 1), GridCell("—", 1, 2, page=3, bbox=(1.0, 2.0, 3.0, 4.0))],
    ]
    grid = Grid(4, cells, 3)
    tokens = grid_tokens(grid)
    expected = [
        Token(c.text, None, c.col, 4, c.row, (4, c.row), page=c.page, bbox=c.bbox) for row in cells for c in row
    ]
    assert tokens == expected
    assert all(type(t) is Token for t in tokens)
    # Kinds decided independently here: a label, a label, a number, an empty cell, a placeholder.
    assert [t.kind for t in tokens] == [TEXT, TEXT, VALUE, EMPTY, VALUE]
    assert tokens[2].is_value and tokens[3].empty and tokens[0].is_text
    assert tokens[4].location() == {"table_index": 4, "row": 1, "col": 2, "page": 3, "bbox": (1.0, 2.0, 3.0, 4.0)}
    assert tokens[2].location() == {"table_index": 4, "row": 1, "col": 0}
