"""Workspaces: the settings file and one YAML spec per use case, parsed into typed objects."""

from gates.workspace.loader import Workspace, find_workspace, load_workspace
from gates.workspace.settings import Settings
from gates.workspace.usecase import UseCaseSpec
from gates.workspace.validation import validate_workspace

__all__ = [
    "Settings",
    "UseCaseSpec",
    "Workspace",
    "find_workspace",
    "load_workspace",
    "validate_workspace",
]
