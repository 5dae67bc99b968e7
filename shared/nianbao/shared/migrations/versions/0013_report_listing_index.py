"""report: one index in the listing order (site, year, agency, id) instead of site_id alone; passed_count

The reports and findings lists are ordered by site, year, agency and report; with this index a page walks
reports in that order and stops when it has its rows (a nested loop into each report's findings), instead of
sorting every matching finding (at 20 000 reports: a page of failing findings 0.4-2 s before, ~1-150 ms
after). ``ix_report_site_id`` served only ``site_id =``, which this index's first column serves too (as does
the unique key (site_id, url)), so a report row still enters as many indexes.

``passed_count`` is the length of ``passed``, written with it: counting the passing findings (a findings
page's total) adds one number a report instead of expanding every list (at 20 000 reports 4.5 s).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: SQLite adds a column with a constant default in place (and json_array_length is in both).
    op.add_column('report', sa.Column('passed_count', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.execute('UPDATE report SET passed_count = json_array_length(passed) WHERE passed_count <> json_array_length(passed)')
    op.create_index('ix_report_listing', 'report', ['site_id', 'year', 'agency', 'id'])
    op.drop_index('ix_report_site_id', table_name='report')


def downgrade() -> None:
    op.create_index('ix_report_site_id', 'report', ['site_id'])
    op.drop_index('ix_report_listing', table_name='report')
    # Not batch mode (as 0012): SQLite would re-create report under its view and trigger; it drops in place.
    op.drop_column('report', 'passed_count')
