"""Command modules beyond the foundation ones in ``cli.py``; each exposes ``COMMANDS``, a list of click commands."""
