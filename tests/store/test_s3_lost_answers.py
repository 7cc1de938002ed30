"""A create-only write whose answer is lost is resolved by reading the key, never hidden.

The S3 server is the session's real SeaweedFS; a fault-injecting proxy in front of it
(``tests/lossy_proxy.py``) forwards a PUT and then drops the client's connection
without the answer, or drops the PUT before it reaches the server, or goes away.
"""

from __future__ import annotations

import pytest

from gates.errors import EntryExistsError, StoreError, WriteOutcomeUnknown
from gates.stack.seaweedfs import SeaweedFS
from gates.store.s3 import S3Store
from tests.lossy_proxy import LossyProxy, is_entry_put

pytestmark = pytest.mark.s3

KEY = "chains/uc/000000000001.dsse.json"


def client_attempts(store: S3Store) -> int:
    """botocore's attempts per call (the first try and its retries) in the store's client."""
    return int(store.client.meta.config.retries["total_max_attempts"])


def _objects(seaweedfs: SeaweedFS, bucket: str) -> dict[str, bytes]:
    """What the bucket really holds, read around the proxy."""
    client = seaweedfs.client()
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listed
    }


def _warm(store: S3Store) -> None:
    """Let the store learn the bucket's Object Lock settings before the fault starts."""
    store.put_new("chains/uc/000000000000.dsse.json", b"zero")


def test_a_write_whose_answer_is_lost_while_s3_is_gone_says_it_may_have_been_written(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket)
    _warm(store)
    lossy_s3.lose_answers(is_entry_put, then_gone=True)

    with pytest.raises(WriteOutcomeUnknown) as caught:
        store.put_new(KEY, b"one")

    assert caught.value.key == KEY
    assert KEY in caught.value.message
    assert "may have been written" in caught.value.message
    assert lossy_s3.gone and [lost.status for lost in lossy_s3.lost] == [200]
    # It had landed: the server holds our bytes.
    assert _objects(seaweedfs, s3_bucket)[KEY] == b"one"


def test_a_lost_answer_is_a_success_when_reading_the_key_finds_our_bytes(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    # Every attempt of the call loses its answer (the first creates the key, the retries
    # meet it), but the server is back at once: a read shows the write landed.
    store = S3Store(s3_bucket)
    _warm(store)
    lossy_s3.lose_answers(is_entry_put, times=client_attempts(store))

    store.put_new(KEY, b"one")

    assert len(lossy_s3.lost) == client_attempts(store)
    assert _objects(seaweedfs, s3_bucket) == {
        "chains/uc/000000000000.dsse.json": b"zero",
        KEY: b"one",
    }


def test_a_lost_answer_retried_at_once_into_the_taken_key_is_a_success(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket)
    _warm(store)
    lossy_s3.lose_answers(is_entry_put, times=1)

    store.put_new(KEY, b"one")

    assert len(lossy_s3.lost) == 1
    assert _objects(seaweedfs, s3_bucket)[KEY] == b"one"


def test_a_lost_answer_where_another_writer_holds_the_key_is_entry_exists(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket)
    _warm(store)
    seaweedfs.client().put_object(Bucket=s3_bucket, Key=KEY, Body=b"theirs")
    lossy_s3.lose_answers(is_entry_put, times=client_attempts(store))

    with pytest.raises(EntryExistsError, match="already exists"):
        store.put_new(KEY, b"ours")

    assert _objects(seaweedfs, s3_bucket)[KEY] == b"theirs"


def test_a_write_dropped_before_it_reached_s3_is_written_once_after_the_read(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket)
    _warm(store)
    lossy_s3.lose_answers(is_entry_put, times=client_attempts(store), reach_server=False)

    store.put_new(KEY, b"one")

    assert [lost.status for lost in lossy_s3.lost] == [0] * client_attempts(store)
    assert _objects(seaweedfs, s3_bucket)[KEY] == b"one"


def test_a_write_that_could_not_connect_is_a_plain_store_error(
    lossy_s3: LossyProxy, s3_bucket: str, seaweedfs: SeaweedFS
) -> None:
    store = S3Store(s3_bucket)
    _warm(store)
    lossy_s3.go_away()  # before the write: no attempt can have delivered it

    with pytest.raises(StoreError) as caught:
        store.put_new(KEY, b"one")

    assert not isinstance(caught.value, WriteOutcomeUnknown)
    assert "S3 unreachable" in caught.value.message
    assert KEY not in _objects(seaweedfs, s3_bucket)
