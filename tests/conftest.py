"""Shared fixtures: one real SeaweedFS S3 per test session, fresh buckets, a local store,
a webhook receiver and a timestamp authority on loopback."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gates.signing.keys import PublicKey
from gates.stack.seaweedfs import SeaweedFS
from gates.store.local import LocalStore
from tests.lossy_proxy import LossyProxy
from tests.support.webhook import Receiver, serve_receiver
from tests.tsa_authority import LoopbackTsa


@pytest.fixture(scope="session", autouse=True)
def verified_heads_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where commands keep verified chain heads during the tests: a folder of the test
    session's own, never the user's cache (``gates.ledger.verified_heads``)."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get("STAGEGATE_CACHE_DIR")
    os.environ["STAGEGATE_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("STAGEGATE_CACHE_DIR", None)
    else:
        os.environ["STAGEGATE_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """A running SeaweedFS; AWS_* variables point boto3 at it for the whole session."""
    with SeaweedFS() as server, pytest.MonkeyPatch.context() as env:
        # Credentials of the developer's own AWS setup must not leak into the tests.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION"):
            env.delenv(name, raising=False)
        for name, value in server.env().items():
            env.setenv(name, value)
        yield server


def _bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def s3_bucket(seaweedfs: SeaweedFS) -> str:
    """The name of a new, empty, unversioned bucket."""
    return seaweedfs.create_bucket(_bucket_name())


@pytest.fixture
def s3_lock_bucket(seaweedfs: SeaweedFS) -> str:
    """The name of a new bucket with versioning, Object Lock and 1-day GOVERNANCE retention."""
    name = seaweedfs.create_bucket(_bucket_name(), versioning=True, object_lock=True)
    seaweedfs.client().put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    return name


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A LocalStore on an empty folder."""
    return LocalStore(tmp_path / "store")


@pytest.fixture
def lossy_s3(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> Iterator[LossyProxy]:
    """A fault-injecting proxy in front of the session's SeaweedFS; boto3 goes through it."""
    with LossyProxy(seaweedfs.endpoint_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        yield proxy


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackTsa]:
    """A real RFC 3161 timestamp authority (OpenSSL) on 127.0.0.1 for the whole session."""
    with LoopbackTsa(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1 that records each POST and answers as told."""
    with serve_receiver() as running:
        yield running


@pytest.fixture
def host_in_new_york() -> Iterator[None]:
    """This process's local time zone is not UTC (as on most laptops), for one test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    assert time.localtime().tm_gmtoff != 0
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Ed25519 verification made, by key id."""
    made: list[str] = []
    real = PublicKey.verify

    def counted(self: PublicKey, signature: bytes, message: bytes) -> bool:
        made.append(self.keyid)
        return real(self, signature, message)

    monkeypatch.setattr(PublicKey, "verify", counted)
    yield made
