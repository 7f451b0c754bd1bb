"""calendars and contacts: CalDAV sync state and items, contact cards with birthdays

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_sources',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('sync_token', sa.Text(), nullable=True),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('last_sync_at', sa.DateTime(), nullable=True),
        sa.Column('last_ok_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_sources')),
        sa.UniqueConstraint('name', name=op.f('uq_calendar_sources_name')),
    )
    op.create_table(
        'calendar_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('href', sa.String(length=1000), nullable=False),
        sa.Column('etag', sa.String(length=300), nullable=True),
        sa.Column('uid', sa.String(length=500), nullable=True),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['calendar_sources.id'], ondelete='CASCADE',
                                name=op.f('fk_calendar_items_source_id_calendar_sources')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_items')),
        sa.UniqueConstraint('source_id', 'href', name='uq_calendar_items_href'),
    )
    op.create_index(op.f('ix_calendar_items_source_id'), 'calendar_items', ['source_id'])
    op.create_table(
        'contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('uid', sa.String(length=500), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('birthday', sa.String(length=10), nullable=True),
        sa.Column('anniversary', sa.String(length=10), nullable=True),
        sa.Column('href', sa.String(length=1000), nullable=True),
        sa.Column('etag', sa.String(length=300), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_contacts_person_id_people')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
        sa.UniqueConstraint('source', 'uid', name='uq_contacts_source_uid'),
    )
    op.create_index(op.f('ix_contacts_person_id'), 'contacts', ['person_id'])


def downgrade():
    op.drop_index(op.f('ix_contacts_person_id'), table_name='contacts')
    op.drop_table('contacts')
    op.drop_index(op.f('ix_calendar_items_source_id'), table_name='calendar_items')
    op.drop_table('calendar_items')
    op.drop_table('calendar_sources')
