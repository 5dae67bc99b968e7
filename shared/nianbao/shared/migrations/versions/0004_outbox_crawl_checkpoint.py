"""outbox and crawl checkpoint: hand-offs recorded with their fetches; crawls that resume

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_site_id'), ['site_id'], unique=False)

    op.create_table(
        'crawl_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('original_url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('force', sa.Boolean(), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'position', name='uq_crawl_checkpoint_run_position'),
    )
    with op.batch_alter_table('crawl_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_checkpoint_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crawl_checkpoint_site_id'), ['site_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crawl_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_checkpoint_site_id'))
        batch_op.drop_index(batch_op.f('ix_crawl_checkpoint_created_at'))
    op.drop_table('crawl_checkpoint')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_site_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))
    op.drop_table('outbox')
