"""Fixtures for check-kind tests: a real SQLite MLflow store, data files and check contexts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.check_context import (
    MakeCtx,
    WriteRows,
    WriteText,
    context_builder,
    rows_writer,
    text_writer,
)
from tests.support.mlflow import MlflowSeed
from tests.support.ports import refusing_port


@pytest.fixture(scope="module")
def mlflow_seed(tmp_path_factory: pytest.TempPathFactory) -> MlflowSeed:
    """One real SQLite tracking store per test module (creating it runs migrations, ~2 s)."""
    return MlflowSeed.create(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture(scope="module")
def mlflow_tracking_uri(mlflow_seed: MlflowSeed) -> str:
    return mlflow_seed.uri


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test."""
    with refusing_port() as port:
        yield port


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeCtx:
    """A CheckContext for one use case in a workspace at ``tmp_path`` (``context_builder``)."""
    return context_builder(tmp_path)


@pytest.fixture
def write_rows(tmp_path: Path) -> WriteRows:
    """Rows as ``data/<name>`` (CSV, YAML or JSON) under the workspace (``rows_writer``)."""
    return rows_writer(tmp_path)


@pytest.fixture
def write_text(tmp_path: Path) -> WriteText:
    """A raw text file under ``data/`` (``text_writer``)."""
    return text_writer(tmp_path)
