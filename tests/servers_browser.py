"""Headless Chromium fixtures (owned by the report work)."""
