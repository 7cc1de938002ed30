"""Explore's candidates as data, and the YAML and CSV files they are written as."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

#: Five candidates; alpha has a spec in the workspace, the others do not.
CANDIDATES: list[dict[str, Any]] = [
    {
        "id": "alpha",
        "title": "Alpha assistant",
        "department": "support",
        "owner": "owner@example.com",
        "sponsors": ["Dana Park (COO)"],
        "impact": "medium",
        "complexity": "low",
        "data": "structured_accessible",
        "measurability": "clear_metric",
        "stakeholders": "cooperative",
    },
    {
        "id": "gamma",
        "title": "Gamma extraction",
        "department": "finance",
        "owner": "gamma@example.com",
        "sponsors": ["Lee Moreau (CFO)", "Dana Park"],
        "impact": "medium",
        "complexity": "medium",
        "data": "unstructured",
        "measurability": "clear_metric",
        "stakeholders": "cooperative",
        "notes": "scanned PDFs",
    },
    {
        "id": "delta",
        "title": "Delta forecasting",
        "department": "supply-chain",
        "owner": "delta@example.com",
        "impact": "very_high",
        "complexity": "high",
        "data": "structured_restricted",
        "measurability": "clear_metric",
        "stakeholders": "cooperative",
    },
    {
        "id": "epsilon",
        "title": "Epsilon search",
        "department": "legal",
        "owner": "epsilon@example.com",
        "impact": "high",
        "complexity": "high",
        "data": "scattered",
        "measurability": "proxy_metric",
        "stakeholders": "neutral",
    },
    {
        "id": "zeta",
        "title": "Zeta screening",
        "department": "people",
        "owner": "zeta@example.com",
        "impact": "high",
        "complexity": "medium",
        "data": "unstructured",
        "measurability": "subjective",
        "stakeholders": "resistant",
    },
]
EXPECTED_ORDER = ["alpha", "gamma", "delta", "epsilon", "zeta"]


def write_yaml(
    path: Path, rows: list[dict[str, Any]], weights: dict[str, Any] | None = None
) -> Path:
    doc: dict[str, Any] = {"candidates": rows}
    if weights is not None:
        doc["weights"] = weights
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = ["id", "title", "department", "owner", "sponsors", "impact", "complexity", "data",
               "measurability", "stakeholders", "notes"]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            cells = {**row, "sponsors": "; ".join(row.get("sponsors", []))}
            writer.writerow([cells.get(c, "") for c in columns])
    return path
