"""Sources of evidence outside the mailbox: phone call logs, calendars (CalDAV), address books.

One module per source. Each has ``read_*``/``fetch_*`` functions that return plain records (files,
network) kept apart from the ``import_*``/``sync_*`` functions that match them to people and save them
through :mod:`inboxrel.signals.save`.
"""
