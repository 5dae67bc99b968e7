"""crawl_run.announced_max: the stated maximum beside the sure minimum of a page-count announcement

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announced_max', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_column('announced_max')
