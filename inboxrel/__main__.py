from inboxrel.cli import cli

cli(prog_name="inboxrel")
