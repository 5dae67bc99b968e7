"""report.rows_sha256: digest of a report's value and finding rows, so an unchanged report is not read back

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null for the reports stored before: the store compares their rows in full once and then writes it.
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('rows_sha256')
