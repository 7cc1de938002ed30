"""Nightly re-checks: what keeps a use case honest in the stage it has reached."""
