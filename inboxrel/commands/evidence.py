"""Commands for conversation evidence (cues, logged calls, calendars). Filled in by the evidence work."""

COMMANDS = []


def signal_stage(app, engine):
    """The callback the import runs after each saved batch to extract conversation evidence, or None."""
    return None
