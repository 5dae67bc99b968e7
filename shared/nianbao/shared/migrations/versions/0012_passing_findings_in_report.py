"""report.passed: the findings that pass move from finding rows into one JSON list per report; the view
finding_all reads both as one relation

About 70 % of a report's findings pass (the bench's seeds: 76 of 119). As rows, each was inserted, entered
two indexes and was read back by nothing but exports and ``findings --status pass``; as one JSON column of
the report row they are written with it. Readers that want every finding read ``finding_all``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The finding columns a passed entry keeps (status is "pass", rule_version the report's rules_version).
ENTRY = ('rule', 'location', 'severity', 'lhs', 'rhs', 'delta', 'cells', 'message')
FINDING_COLUMNS = 'report_id, rule, location, severity, status, lhs, rhs, delta, cells, message, rule_version'

PG_VIEW = f"""
CREATE VIEW finding_all AS
SELECT {FINDING_COLUMNS}, id AS position FROM finding
UNION ALL
SELECT r.id, p.rule, p.location, p.severity, 'pass', p.lhs, p.rhs, p.delta, p.cells, p.message, r.rules_version,
       p.position
FROM report r CROSS JOIN LATERAL ROWS FROM (
    json_to_recordset(r.passed) AS (rule varchar, location varchar, severity varchar, lhs float8, rhs float8,
                                    delta float8, cells json, message varchar)
) WITH ORDINALITY AS p(rule, location, severity, lhs, rhs, delta, cells, message, position)
"""
SQLITE_VIEW = f"""
CREATE VIEW finding_all AS
SELECT {FINDING_COLUMNS}, id AS position FROM finding
UNION ALL
SELECT r.id, {', '.join(f"json_extract(p.value, '$.{name}')" for name in ENTRY[:3])}, 'pass',
       {', '.join(f"json_extract(p.value, '$.{name}')" for name in ENTRY[3:])}, r.rules_version, p.key + 1
FROM report r, json_each(r.passed) AS p
"""

PG_MOVE = f"""
UPDATE report SET passed = moved.list, rows_sha256 = NULL
FROM (
    SELECT report_id, json_agg(json_build_object({', '.join(f"'{n}', {n}" for n in ENTRY)}) ORDER BY id) AS list
    FROM finding WHERE status = 'pass' GROUP BY report_id
) AS moved
WHERE report.id = moved.report_id
"""
SQLITE_MOVE = f"""
UPDATE report SET rows_sha256 = NULL, passed = (
    SELECT json_group_array(json_object({', '.join(f"'{n}', json({n})" if n == 'cells' else f"'{n}', {n}"
                                              for n in ENTRY)}))
    FROM (SELECT * FROM finding WHERE finding.report_id = report.id AND status = 'pass' ORDER BY id)
)
WHERE id IN (SELECT report_id FROM finding WHERE status = 'pass')
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    # Not batch mode (see downgrade): SQLite adds a column with a constant default in place.
    op.add_column('report', sa.Column('passed', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    if postgres:
        # As the record's (migration 0008): lz4 where the server has it.
        try:
            with op.get_bind().begin_nested():
                op.execute('ALTER TABLE report ALTER COLUMN passed SET COMPRESSION lz4')
        except sa.exc.DBAPIError:
            pass
    # The digest summarised rows that now change: "not known", so the next store compares them in full.
    op.execute(PG_MOVE if postgres else SQLITE_MOVE)
    op.execute("DELETE FROM finding WHERE status = 'pass'")
    op.execute(PG_VIEW if postgres else SQLITE_VIEW)


def downgrade() -> None:
    op.execute(
        f'INSERT INTO finding ({FINDING_COLUMNS}, created_at, updated_at) '
        f'SELECT {", ".join(f"v.{c}" for c in FINDING_COLUMNS.split(", "))}, r.updated_at, r.updated_at '
        "FROM finding_all AS v JOIN report AS r ON r.id = v.report_id WHERE v.status = 'pass' "
        'ORDER BY v.report_id, v.position'
    )
    op.execute('UPDATE report SET rows_sha256 = NULL WHERE passed IS NOT NULL')
    op.execute('DROP VIEW finding_all')
    # Not batch mode on SQLite: it would re-create report, and dropping the old table takes its trigger
    # (migration 0011) with it. SQLite drops a column in place since 3.35.
    op.drop_column('report', 'passed')
