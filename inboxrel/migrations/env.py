"""Alembic environment: runs on the connection inboxrel hands over (see inboxrel.db.migrate)."""

from alembic import context

from inboxrel.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` command line, e.g. to autogenerate a revision
    from sqlalchemy import create_engine

    connection = create_engine(context.config.get_main_option("sqlalchemy.url")).connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite needs batch mode to alter tables
)
with context.begin_transaction():
    context.run_migrations()
