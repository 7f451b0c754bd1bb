"""stores made by an early build of 0001: add what that build did not create

Revision 0001 was rewritten in place before the rule was set that a landed migration is never edited:
stores created by the build of 26 November 03:46 (commit c1af4ba) say "0001" but lack the derived
per-person tables, the summary state and the accounts' sync columns, so every later build crashed on
them ("no such table: summary_state"). This revision creates exactly what is missing and nothing else;
on a store made by the current 0001 it changes nothing. The derived tables start empty and are rebuilt
from the messages on the next read. The early build's two unused columns (addresses.first_seen,
addresses.last_seen, nullable) are left in place: an upgrade never drops data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 23:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ACCOUNT_COLUMNS = (
    ('last_sync_at', sa.DateTime),
    ('last_success_at', sa.DateTime),
    ('last_error', sa.Text),
    ('last_error_at', sa.DateTime),
)


def upgrade():
    insp = sa.inspect(op.get_bind())
    tables = set(insp.get_table_names())
    if 'person_days' not in tables:
        op.create_table(
            'person_days',
            sa.Column('person_id', sa.Integer(), nullable=False),
            sa.Column('day', sa.Date(), nullable=False),
            sa.Column('sent', sa.Integer(), nullable=False),
            sa.Column('received', sa.Integer(), nullable=False),
            sa.Column('gap', sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint('person_id', 'day', name=op.f('pk_person_days')),
        )
        with op.batch_alter_table('person_days', schema=None) as batch_op:
            batch_op.create_index('ix_person_days_day', ['day', 'person_id', 'sent', 'received'], unique=False)
    if 'person_totals' not in tables:
        op.create_table(
            'person_totals',
            sa.Column('person_id', sa.Integer(), nullable=False),
            sa.Column('sent', sa.Integer(), nullable=False),
            sa.Column('received', sa.Integer(), nullable=False),
            sa.Column('first_at', sa.DateTime(), nullable=True),
            sa.Column('last_at', sa.DateTime(), nullable=True),
            sa.Column('last_sent_at', sa.DateTime(), nullable=True),
            sa.Column('last_received_at', sa.DateTime(), nullable=True),
            sa.Column('sent_30d', sa.Integer(), nullable=False),
            sa.Column('received_30d', sa.Integer(), nullable=False),
            sa.Column('sent_90d', sa.Integer(), nullable=False),
            sa.Column('received_90d', sa.Integer(), nullable=False),
            sa.Column('sent_365d', sa.Integer(), nullable=False),
            sa.Column('received_365d', sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_totals')),
        )
    if 'summary_state' not in tables:
        op.create_table(
            'summary_state',
            sa.Column('key', sa.String(length=40), nullable=False),
            sa.Column('value', sa.Text(), nullable=True),
            sa.Column('built_at', sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint('key', name=op.f('pk_summary_state')),
        )
    have = {c['name'] for c in insp.get_columns('accounts')}
    missing = [(name, kind) for name, kind in ACCOUNT_COLUMNS if name not in have]
    if missing:
        with op.batch_alter_table('accounts', schema=None) as batch_op:
            for name, kind in missing:
                batch_op.add_column(sa.Column(name, kind(), nullable=True))


def downgrade():
    # Nothing to undo: what this revision adds belongs to revision 0001's current form.
    pass
