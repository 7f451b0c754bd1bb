"""Dovecot IMAP server fixtures (owned by the IMAP ingestion work)."""
