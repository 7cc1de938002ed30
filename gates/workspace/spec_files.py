"""Use-case specs read from their files when asked for, for a night of thousands.

``load_workspace(..., specs_on_demand=True)`` gives a workspace whose ``usecases`` is a
``SpecFiles``: it knows every spec's file from the folder listing and reads, validates
and keeps one only while it is in use (the last ``KEEP`` read), so a re-check of ten
thousand use cases holds a few specs at a time instead of all of them. A spec that does
not load is the same ConfigError, naming its file, as at a full load; it is raised when
that use case is asked for, so it stops only that use case.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from gates.workspace.usecase import UseCaseSpec

#: Specs kept after reading: enough for the few use cases a pool of workers has in hand.
KEEP = 64


class SpecFiles(Mapping[str, UseCaseSpec]):
    """Use-case specs by id (their file's name), each read from its file when asked for."""

    def __init__(
        self, paths: Mapping[str, Path], load: Callable[[Path], UseCaseSpec], keep: int = KEEP
    ) -> None:
        self.paths = dict(paths)
        #: Reads one spec file: ConfigError, naming the file, when it does not load.
        self.load = load
        self.keep = keep
        self._kept: OrderedDict[str, UseCaseSpec] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, usecase_id: str) -> UseCaseSpec:
        with self._lock:
            spec = self._kept.get(usecase_id)
            if spec is not None:
                self._kept.move_to_end(usecase_id)
                return spec
        spec = self.load(self.paths[usecase_id])  # KeyError: no such use case, as for a dict
        with self._lock:
            self._kept[usecase_id] = spec
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return spec

    def __contains__(self, usecase_id: object) -> bool:
        return usecase_id in self.paths

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)
