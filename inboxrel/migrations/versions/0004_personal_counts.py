"""personal counts: the per-day derived tables weigh each message by its shape

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 23:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DAYS = ('personal_sent', 'personal_received')
TOTALS = ('personal_sent', 'personal_received', 'personal_sent_30d', 'personal_received_30d', 'personal_sent_90d',
          'personal_received_90d', 'personal_sent_365d', 'personal_received_365d')


def upgrade():
    for name in DAYS:
        op.add_column('person_days', sa.Column(name, sa.Float(), nullable=False, server_default=sa.text('0')))
    op.add_column('person_days', sa.Column('bulk', sa.Integer(), nullable=False, server_default=sa.text('0')))
    for name in TOTALS:
        op.add_column('person_totals', sa.Column(name, sa.Float(), nullable=False, server_default=sa.text('0')))
    op.add_column('person_totals', sa.Column('bulk_90d', sa.Integer(), nullable=False, server_default=sa.text('0')))
    op.add_column('person_totals', sa.Column('broadcast', sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    # the tables are derived: forgetting what they were built from rebuilds them, with the new columns,
    # on the next read
    op.execute("DELETE FROM summary_state")


def downgrade():
    with op.batch_alter_table('person_totals') as batch:
        for name in (*TOTALS, 'bulk_90d', 'broadcast'):
            batch.drop_column(name)
    with op.batch_alter_table('person_days') as batch:
        for name in (*DAYS, 'bulk'):
            batch.drop_column(name)
    op.execute("DELETE FROM summary_state")
