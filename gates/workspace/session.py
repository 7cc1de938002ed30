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
from gates.ledger.verified_heads import HeadsKeeper, VerifiedHeads
from gates.signing.signers import Signer, load_signer
from gates.signing.trust import TrustStore
from gates.store.factory import open_store
from gates.store.interface import ObjectStore
from gates.workspace.loader import SETTINGS_FILE, Workspace, load_workspace
from gates.workspace.memo import Memo

if TYPE_CHECKING:
    from gates.tsa.authority import Timestamping


@dataclass
class Session:
    workspace: Workspace
    store_override: ObjectStore | None = field(default=None, repr=False)
    #: Where chain heads verified earlier are kept (``gates.ledger.verified_heads``): the
    #: readers that set one (the UI, ``status``, the report) re-check only the signatures
    #: of entries they have not verified before. None: every signature is checked.
    heads_keeper: HeadsKeeper | None = field(default=None, repr=False)
    #: A long-running reader's memo of results by the digest of their inputs (the UI's).
    memo: Memo | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        root: Path | None = None,
        *,
        heads_keeper: HeadsKeeper | None = None,
        memo: Memo | None = None,
        specs_on_demand: bool = False,
    ) -> Session:
        """The workspace at ``root``; ``specs_on_demand`` as for ``load_workspace``."""
        workspace = load_workspace(root, specs_on_demand=specs_on_demand)
        return cls(workspace, heads_keeper=heads_keeper, memo=memo)

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
    def verified_heads(self) -> VerifiedHeads | None:
        if self.heads_keeper is None:
            return None
        return self.heads_keeper.heads(self.trust, self.store.uri)

    def save_verified_heads(self) -> None:
        """Keep what this session verified for the next reader (if it keeps heads)."""
        if self.heads_keeper is not None and "verified_heads" in self.__dict__:
            heads = self.verified_heads
            if heads is not None:
                self.heads_keeper.save(heads)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(
            self.store, self.trust, self.clock, self.timestamping, heads=self.verified_heads
        )

    @cached_property
    def signer(self) -> Signer:
        return load_signer(self.workspace.settings.signing.key, self.workspace.root)

    @property
    def actor(self) -> str:
        return self.workspace.settings.signing.actor
