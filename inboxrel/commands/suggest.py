"""Placeholder: commands of this area are added here."""

COMMANDS = []
