"""The Scale stage's quarterly review: numbers derived from the verified ledger, goals, charts.

``journeys`` reads each use case's stage entries from its verified chain, ``metrics``
turns them into per-quarter figures, ``review`` holds them to the playbook's goals, and
``charts`` / ``page`` draw them. The Production → Scale gate's ``scale-readiness``
check uses the same metrics.
"""
