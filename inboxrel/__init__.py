"""inboxrel: find the people you email a lot but have not talked to in a while."""

__version__ = "0.1.0"
