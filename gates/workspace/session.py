"""A workspace opened: store, trust, clock, timestamp authority, ledger and gate signer.

What every reader and writer above the workspace layer works with; nothing here evaluates
or writes, so checks, views and the engine can all hold one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gates.clock import Clock
from gates.ledger.chain import Ledger
from gates.signing.signers import Signer, load_signer
from gates.signing.trust import TrustStore
from gates.store.factory import open_store
from gates.store.interface import ObjectStore
from gates.workspace.loader import SETTINGS_FILE, Workspace, load_workspace

if TYPE_CHECKING:
    from gates.tsa.authority import Timestamping


@dataclass
class Session:
    workspace: Workspace
    store_override: ObjectStore | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: Path | None = None) -> Session:
        return cls(load_workspace(root))

    @cached_property
    def store(self) -> ObjectStore:
        return self.store_override or open_store(self.workspace.store_uri)

    @cached_property
    def trust(self) -> TrustStore:
        return TrustStore.load(
            list(self.workspace.settings.trusted_keys),
            self.workspace.root,
            source=str(self.workspace.root / SETTINGS_FILE),
        )

    @cached_property
    def clock(self) -> Clock:
        settings = self.workspace.settings.clock
        return Clock(settings.simulated, timedelta(seconds=settings.tolerance_seconds))

    @cached_property
    def timestamping(self) -> Timestamping | None:
        """The workspace's timestamp authority (``[timestamp]``), or None if it has none."""
        settings = self.workspace.settings.timestamp
        if not settings.tsa_certificate:
            return None
        from gates.tsa.authority import Timestamping
        from gates.tsa.chain import TsaChain

        chain = TsaChain.load(Path(self.workspace.resolve(settings.tsa_certificate)))
        return Timestamping(chain, settings.tsa_url)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.store, self.trust, self.clock, self.timestamping)

    @cached_property
    def signer(self) -> Signer:
        return load_signer(self.workspace.settings.signing.key, self.workspace.root)

    @property
    def actor(self) -> str:
        return self.workspace.settings.signing.actor
