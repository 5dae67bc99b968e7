"""site_gauge: per-site stored reports, reports with errors and newest year, kept by the validator

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'site_gauge',
        sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('reports', sa.Integer(), nullable=False),
        sa.Column('reports_with_errors', sa.Integer(), nullable=False),
        sa.Column('newest_year', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('site_id'),
    )
    # The gauges of the reports stored so far; from here on the validator keeps them by delta.
    op.execute(
        "INSERT INTO site_gauge (site_id, reports, reports_with_errors, newest_year) "
        "SELECT site_id, COUNT(*), SUM(CASE WHEN failing_errors > 0 THEN 1 ELSE 0 END), MAX(year) "
        "FROM report GROUP BY site_id"
    )


def downgrade() -> None:
    op.drop_table('site_gauge')
