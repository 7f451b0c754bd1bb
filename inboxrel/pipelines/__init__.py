"""Ingestion stages, one module each: fetch (local files, IMAP) -> parse -> classify -> save -> signals."""
