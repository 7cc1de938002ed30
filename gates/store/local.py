"""A local-directory artifact store with the same create-only semantics as S3.

Each key is a file under the root folder. ``put_new`` writes to a hidden temporary file
in the target folder, fsyncs it and then hard-links it to the final name: ``link(2)``
fails if the name exists, so of two writers exactly one wins, and because the final name
only ever points at a complete file a reader never sees half an object. A link whose
outcome is unclear is settled by reading the name back; a link that could not be made
durable is reported as a ``WriteOutcomeUnknown``.

The store's clock is each file's modification time. That is weaker evidence than an S3
server's ``LastModified``: anyone with write access to the folder can set it
(``touch -d``), so an auditor comparing entry times with it learns only about writers
who did not also tamper with the folder.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from gates.errors import EntryExistsError, ObjectMissingError, StoreError, WriteOutcomeUnknown
from gates.store.interface import ObjectInfo

__all__ = ["TEMP_MARKER", "LocalStore", "validate_key"]

#: Objects in one page of ``list_pages``.
LIST_PAGE = 1000
#: Temporary files start with this; such names are never keys and never listed.
TEMP_MARKER = ".stagegate-tmp-"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe, '/'-separated relative key; raise StoreError if not.

    The same rules hold for every store so that a ledger written to S3 can be mirrored
    to a folder and back: no absolute paths, no ``.``/``..`` segments (which would escape
    or alias the root), no backslashes (a second separator on Windows), no empty
    segments (``a//b`` and ``a/`` would alias ``a/b`` and ``a`` on a file system), no NUL.
    """
    problem = _key_problem(key)
    if problem is not None:
        raise StoreError(
            f"invalid store key {key!r}: {problem}",
            hint="keys are relative, '/'-separated names such as 'ledger/uc/000000000001.json'",
        )
    return key


#: A key of plain segments: none empty, none starting with "." (so neither "." nor ".."
#: nor a temporary name), no backslash, no NUL, not absolute. Every rule of
#: ``_key_problem`` holds for such a key at a glance, so reads of the usual keys skip it.
_PLAIN_KEY = re.compile(r"[^/\\\x00.][^/\\\x00]*(?:/[^/\\\x00.][^/\\\x00]*)*\Z")
#: Bytes asked of ``os.read`` at a time: a ledger entry or token in one read.
READ_SIZE = 1 << 16
#: Files ``get_many`` keeps open ahead of the one it hands on, their reads under way.
#: (8 left a fifth of a cold ledger's disk waits in place, 128 no fewer than 64.)
READ_AHEAD = 64


def _key_problem(key: str) -> str | None:
    if not key:
        return "the key is empty"
    if "\\" in key:
        return "backslashes are not allowed"
    if "\x00" in key:
        return "NUL characters are not allowed"
    if key.startswith("/"):
        return "absolute keys are not allowed"
    for segment in key.split("/"):
        if segment == "":
            return "empty segments ('//' or a trailing '/') are not allowed"
        if segment in (".", ".."):
            return f"'{segment}' segments are not allowed"
        if segment.startswith(TEMP_MARKER):
            return f"segments starting with {TEMP_MARKER!r} are reserved for temporary files"
    return None


def _validate_prefix(prefix: str) -> str:
    # A prefix is a key with an optional trailing '/' or an unfinished last segment;
    # an empty prefix means "everything".
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class LocalStore:
    """An ``ObjectStore`` on a folder; safe for many threads and processes at once."""

    modified_by = (
        "file modification times (weak: anyone with write access to the folder can set them)"
    )

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.uri = str(self.root)
        #: The root as a path prefix ending in the separator, for ``get``.
        self._prefix = os.path.join(self.uri, "")

    def __repr__(self) -> str:
        return f"LocalStore({self.uri!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put_new(self, key: str, data: bytes) -> None:
        final = self._path(key)
        folder = final.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise StoreError(
                f"{self.uri}: cannot create {key!r}: a parent of it is an object, not a folder"
            ) from e
        except OSError as e:
            raise StoreError(f"{self.uri}: cannot create folder for {key!r}: {e}") from e

        tmp = folder / f"{TEMP_MARKER}{final.name}.{secrets.token_hex(8)}"
        try:
            self._write_durably(tmp, data)
            try:
                os.link(tmp, final)
            except FileExistsError as e:
                if final.is_dir():
                    raise StoreError(
                        f"{self.uri}: cannot create {key!r}: a folder of that name exists"
                    ) from e
                raise EntryExistsError(f"{self.uri}: {key!r} already exists") from e
            except OSError as e:
                # Some file systems (NFS, FUSE) can fail a link they made: look.
                self._settle(key, final, data, e)
            # The link is only durable once the folder entry itself is on disk.
            try:
                _fsync_folder(folder)
            except OSError as e:
                raise WriteOutcomeUnknown(
                    f"{self.uri}: {key!r} was written, but its folder could not be synced "
                    f"({e}); after a crash the object may be missing",
                    key=key,
                    hint="check the disk; the object is there until the machine crashes",
                ) from e
        finally:
            tmp.unlink(missing_ok=True)

    def _settle(self, key: str, final: Path, data: bytes, error: OSError) -> None:
        """After a failed link, learn whether it happened: our bytes mean it did."""
        try:
            stored = final.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{self.uri}: cannot create {key!r}: {error}") from error
        except OSError as e:
            raise WriteOutcomeUnknown(
                f"{self.uri}: creating {key!r} failed ({error}) and reading it back failed "
                f"too ({e}); the object may have been written",
                key=key,
                hint="read the key once the folder is readable: if it holds the bytes "
                "written, the write landed",
            ) from error
        if stored != data:
            raise EntryExistsError(f"{self.uri}: {key!r} already exists") from error

    def _write_durably(self, tmp: Path, data: bytes) -> None:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise StoreError(f"{self.uri}: cannot write {tmp.name}: {e}") from e

    def get(self, key: str) -> bytes:
        # Verification reads every entry through here, so it is kept to system calls: a
        # plain key (``_PLAIN_KEY``) is joined to the root as it is where "/" is the
        # separator, and the file is read with os.open/os.read, not a buffered file object.
        path = self._plain_path(key)
        if path is None:
            path = os.path.join(self.uri, *validate_key(key).split("/"))
        try:
            return _read_file(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            raise ObjectMissingError(f"{self.uri}: no object at key {key!r}") from e
        except OSError as e:
            raise StoreError(f"{self.uri}: cannot read {key!r}: {e}") from e

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        return [key for key, _ in self._walk_in_order(prefix)]

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        return [listed for page in self.list_pages(prefix) for listed in page]

    def list_pages(self, prefix: str) -> Iterator[list[ObjectInfo]]:
        """``list_objects`` a page at a time, walking the folders in key order, so a
        caller can start on the first objects while the rest are listed."""
        page: list[ObjectInfo] = []
        for key, path in self._walk_in_order(prefix):
            try:
                modified_ns = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                continue  # removed since it was listed: not there to verify either
            except OSError as e:
                raise StoreError(f"{self.uri}: cannot read the time of {key!r}: {e}") from e
            page.append(ObjectInfo(key, datetime.fromtimestamp(modified_ns / 1e9, UTC)))
            if len(page) >= LIST_PAGE:
                yield page
                page = []
        if page:
            yield page

    def _walk_in_order(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(key, file path) of every object under ``prefix``, in key order: a folder's
        entries sorted by name, a folder's name followed by the "/" its keys continue
        with, so that "a-b/x" comes before "a/x" as it does in S3."""
        _validate_prefix(prefix)
        # Walk only the deepest folder the prefix names, then filter by the full prefix,
        # so that 'ledger/uc/0000' lists 'ledger/uc/000000000001.json' like S3 would.
        folder_part, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*folder_part.split("/")) if folder_part else self.root
        if not start.is_dir():
            return

        def walk(folder: str, rel: str) -> Iterator[tuple[str, str]]:
            with os.scandir(folder) as listing:
                # Like os.walk: a link to a folder is not followed, nor listed as a file.
                named = [
                    (f"{e.name}/" if e.is_dir() else e.name, e)
                    for e in listing
                    if not e.name.startswith(TEMP_MARKER)
                ]
            for name, found in sorted(named, key=lambda pair: pair[0]):
                key = f"{rel}{found.name}"
                if not name.endswith("/"):
                    if key.startswith(prefix):
                        yield key, found.path
                elif not found.is_symlink():
                    yield from walk(found.path, f"{key}/")

        try:
            yield from walk(str(start), f"{folder_part}/" if folder_part else "")
        except OSError as e:
            raise StoreError(f"{self.uri}: cannot list {prefix!r}: {e}") from e

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Each key's bytes in order, as ``get`` reads them, with the files ahead already
        on their way from the disk.

        A ledger an auditor verifies is seldom in the page cache, and reading its small
        files one after another waits on the disk for each. So the next
        ``READ_AHEAD`` files are opened early and the kernel is asked to start reading
        them (``posix_fadvise(WILLNEED)``) while this one is verified: no threads, and
        a cold ``audit verify`` of a folder runs at about the speed of a warm one. A key
        that is not plain, or whose file does not open early, is read by ``get`` in its
        turn, which raises what it always raises there.
        """
        if not _CAN_ADVISE:
            for key in keys:
                yield key, self.get(key)
            return
        ahead: deque[tuple[str, int | None]] = deque()
        pending = iter(keys)
        try:
            for key in itertools.islice(pending, READ_AHEAD):
                ahead.append((key, self._opened_early(key)))
            while ahead:
                key, fd = ahead.popleft()
                later = next(pending, None)  # one in for each one out
                if later is not None:
                    ahead.append((later, self._opened_early(later)))
                if fd is None:
                    yield key, self.get(key)
                    continue
                try:
                    data = _read_to_end(fd)
                except OSError:
                    data = None  # a folder, say: ``get`` says what it says of it
                finally:
                    os.close(fd)
                yield key, self.get(key) if data is None else data
        finally:
            for _, fd in ahead:
                if fd is not None:
                    os.close(fd)

    def _plain_path(self, key: str) -> str | None:
        """The file of a plain key (``_PLAIN_KEY``), joined as it is; None for any other."""
        if _PLAIN_KEY.match(key) is not None and os.sep == "/":
            return self._prefix + key
        return None

    def _opened_early(self, key: str) -> int | None:
        """The open file of ``key`` with the kernel asked to read it, or None."""
        path = self._plain_path(key)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        # Not contextlib.suppress: this runs for every entry verified, and a try costs less.
        try:  # noqa: SIM105
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass  # only advice: the read still reads
        return fd


#: Whether this system takes read-ahead advice (Linux and the BSDs do; macOS, Windows not).
_CAN_ADVISE = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_WILLNEED")


def _read_file(path: str) -> bytes:
    """The whole file at ``path``; a folder raises IsADirectoryError on its first read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        return _read_to_end(fd)
    finally:
        os.close(fd)


def _read_to_end(fd: int) -> bytes:
    chunks = [os.read(fd, READ_SIZE)]
    while chunks[-1]:
        chunks.append(os.read(fd, READ_SIZE))
    return chunks[0] if len(chunks) == 2 else b"".join(chunks)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems cannot fsync a directory; the data itself was already synced.
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)
