"""Prefect flows: thin over gates/; importing this package loads nothing heavy."""
