"""Test support: one World that writes real workspaces and drives the real actions.

``world.World`` is the builder every test folder shares (python-tuf's repository
simulator is the model): it writes a workspace — settings from one template
(``settings.py``), keys, use-case specs, evidence files — and signs real entries through
the engine. ``presets.py`` names the starting workspaces the folders use, ``forge.py``
the ways tamper tests write what the product never would.
"""
