"""Bulk import of listings from CSV or JSON Lines: reading files, validating rows, writing batches."""
