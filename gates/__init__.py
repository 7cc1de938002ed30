"""stagegate: enforced, auditable stage gates for an AI adoption roadmap.

The library is usable without the CLI and without Prefect. Importing this package is
cheap on purpose: heavy libraries (Prefect, MLflow, Great Expectations) load only in
the modules that use them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
