"""A new workspace (`stagegate init`): settings, keys, trust, templates and a first use case.

The files it writes name the committed JSON Schemas (copied into the workspace), so
editors complete and check them; ``trusted_keys_block`` is also what
``stagegate keys generate`` prints for pasting into ``stagegate.toml``.
"""

from gates.scaffold.workspace import Created, create_workspace, trusted_keys_block

__all__ = ["Created", "create_workspace", "trusted_keys_block"]
