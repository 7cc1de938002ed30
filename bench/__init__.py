"""Benchmarks: each prints figures and ratios against a baseline measured in the same run.

Every bench is a module ``bench/bench_NAME.py`` listed in ``BENCHES``, with a ``Size``
(what it generates and how often it measures), the sizes ``FULL`` and ``SMOKE``, and
``main(size)``. ``python -m bench`` runs them at ``FULL``; ``python -m bench --smoke``
runs them at ``SMOKE``, tiny sizes that take seconds, so CI notices a bench that no
longer runs (its figures then mean nothing). See bench/README.md.
"""

#: The benches ``python -m bench`` runs, in this order.
BENCHES = ("coldstart", "verify", "verify_large", "gate", "promote_cli", "signers", "ui", "recheck")
