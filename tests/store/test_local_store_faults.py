"""The folder store settles a write whose outcome is unclear instead of guessing.

File systems here do not fail ``link(2)`` or a folder ``fsync`` on demand, so these
tests inject the failure into the store's own calls (a real link made, then an error
reported, as NFS can do), and check what the store concludes from reading the name.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from gates.errors import EntryExistsError, StoreError, WriteOutcomeUnknown
from gates.store import local
from gates.store.local import LocalStore

KEY = "chains/uc/000000000001.dsse.json"


def _eio(*_: object) -> OSError:
    return OSError(errno.EIO, os.strerror(errno.EIO))


def test_a_link_reported_failed_but_made_is_a_success(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def link_then_fail(src: Path, dst: Path) -> None:
        real_link(src, dst)
        raise _eio()

    monkeypatch.setattr(local.os, "link", link_then_fail)
    local_store.put_new(KEY, b"one")

    assert local_store.get(KEY) == b"one"
    assert local_store.list_keys("") == [KEY]


def test_a_link_reported_failed_and_not_made_is_a_plain_store_error(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(src: Path, dst: Path) -> None:
        raise _eio()

    monkeypatch.setattr(local.os, "link", fail)
    with pytest.raises(StoreError) as caught:
        local_store.put_new(KEY, b"one")

    assert not isinstance(caught.value, WriteOutcomeUnknown | EntryExistsError)
    assert not local_store.exists(KEY)


def test_a_link_reported_failed_where_another_writer_won_is_entry_exists(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def theirs_then_fail(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"theirs")
        raise _eio()

    monkeypatch.setattr(local.os, "link", theirs_then_fail)
    with pytest.raises(EntryExistsError):
        local_store.put_new(KEY, b"ours")
    assert local_store.get(KEY) == b"theirs"


def test_a_write_whose_folder_cannot_be_synced_is_an_unknown_outcome_naming_the_key(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(folder: Path) -> None:
        raise _eio()

    monkeypatch.setattr(local, "_fsync_folder", fail)
    with pytest.raises(WriteOutcomeUnknown) as caught:
        local_store.put_new(KEY, b"one")

    assert caught.value.key == KEY
    assert KEY in caught.value.message and "may be missing" in caught.value.message
