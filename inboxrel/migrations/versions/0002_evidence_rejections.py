"""evidence rejections: what the user marked wrong with `inboxrel evidence reject`

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 23:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'evidence_rejections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('ref', sa.String(length=1000), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('medium', sa.String(length=12), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=True),
        sa.Column('sentence', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('interaction_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_rejections')),
        sa.UniqueConstraint('source', 'ref', 'email', 'kind', name='uq_evidence_rejections_key'),
    )


def downgrade():
    op.drop_table('evidence_rejections')
