"""crawl_run: per crawl run, reports announced by the portal vs found, kept, fetched, handed on

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'crawl_run',
        sa.Column('shortfalls', sa.JSON(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('family', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('announced', sa.Integer(), nullable=True),
        sa.Column('found', sa.Integer(), nullable=False),
        sa.Column('kept', sa.Integer(), nullable=False),
        sa.Column('fetched', sa.Integer(), nullable=False),
        sa.Column('handed_on', sa.Integer(), nullable=False),
        sa.Column('not_a_report', sa.Integer(), nullable=False),
        sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', name='uq_crawl_run_run_id'),
    )
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_run_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crawl_run_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crawl_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_crawl_run_site_id'))
    op.drop_table('crawl_run')
