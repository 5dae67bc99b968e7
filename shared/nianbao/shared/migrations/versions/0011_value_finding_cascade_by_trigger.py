"""report_value and finding lose their foreign key to report; a trigger on report deletes a report's value
and finding rows with it, as ON DELETE CASCADE did

The foreign key was checked once per inserted row (~270 rows a new report): on PostgreSQL a trigger
running a ``SELECT … FOR KEY SHARE`` on report per row, about a third of the server time of inserting a
report's values and findings (EXPLAIN ANALYZE of the two inserts, 6.4 → 4.2 ms, on this project's bench
database). Those rows are written only by the validator's store, in the transaction that inserted or locked
their report, and no code deletes reports, so the check guarded nothing the store does not already
guarantee; the cascade, which operators deleting a report by hand rely on, is kept by the trigger (it runs
per deleted report, never per inserted row).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 04:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHILDREN = ('report_value', 'finding')
# SQLite's foreign keys are unnamed: batch mode names them by this convention so they can be dropped.
SQLITE_FK = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}

PG_FUNCTION = """
CREATE FUNCTION report_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_value WHERE report_id = OLD.id;
    DELETE FROM finding WHERE report_id = OLD.id;
    RETURN OLD;
END
$$
"""
PG_TRIGGER = (
    'CREATE TRIGGER report_delete_children AFTER DELETE ON report '
    'FOR EACH ROW EXECUTE FUNCTION report_delete_children()'
)
SQLITE_TRIGGER = """
CREATE TRIGGER report_delete_children AFTER DELETE ON report FOR EACH ROW
BEGIN
    DELETE FROM report_value WHERE report_id = OLD.id;
    DELETE FROM finding WHERE report_id = OLD.id;
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in CHILDREN:
            op.drop_constraint(f'{table}_report_id_fkey', table, type_='foreignkey')
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for table in CHILDREN:
            with op.batch_alter_table(table, recreate='always', naming_convention=SQLITE_FK) as batch_op:
                batch_op.drop_constraint(f'fk_{table}_report_id_report', type_='foreignkey')
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.execute('DROP TRIGGER report_delete_children ON report' if postgres else 'DROP TRIGGER report_delete_children')
    if postgres:
        op.execute('DROP FUNCTION report_delete_children()')
    for table in CHILDREN:
        # Rows whose report is gone would fail the restored key: the cascade would have deleted them.
        op.execute(f'DELETE FROM {table} WHERE report_id NOT IN (SELECT id FROM report)')
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(
                f'{table}_report_id_fkey' if postgres else f'fk_{table}_report_id_report',
                'report', ['report_id'], ['id'], ondelete='CASCADE',
            )
