"""Synthetic but realistic evidence for the demo: test sets, feedback, operations, costs.

Deterministic (seeded) so the demo tells the same story every time.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

QUESTIONS = [
    (
        "How do I reset my password?",
        "Use 'Forgot password' on the sign-in page; a link arrives by email.",
    ),
    ("Where is my order?", "Open Orders, pick the order and follow the tracking link."),
    ("Can I change my delivery address?", "Yes, until the parcel ships: Orders → Edit address."),
    (
        "How do I cancel my subscription?",
        "Settings → Plan → Cancel; it runs to the end of the period.",
    ),
    (
        "Why was I charged twice?",
        "One charge is a pending authorisation and drops off within 3 days.",
    ),
    ("How do I get an invoice?", "Billing → Invoices → Download PDF."),
    ("Is there a student discount?", "Yes, 20% with a verified student email."),
    ("How do I return an item?", "Orders → Return item; print the prepaid label."),
]


def write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def poc_test_set(path: Path, rows: int = 80, seed: int = 7) -> Path:
    """A PoC test set of ``rows`` question/answer pairs (50–100 per the playbook)."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        question, answer = QUESTIONS[i % len(QUESTIONS)]
        variant = rng.choice(["", " Thanks!", " Please help.", " (urgent)"])
        out.append([f"T{i + 1:03d}", question + variant, answer])
    return write_csv(path, ["id", "input", "expected_output"], out)


def pilot_feedback(
    path: Path, start: datetime, weeks: int, users: int, means: list[float], seed: int = 11
) -> Path:
    """Weekly survey answers from pilot users; ``means[w]`` is week w's average score."""
    rng = random.Random(seed)
    rows: list[list[object]] = []
    for week in range(weeks):
        mean = means[min(week, len(means) - 1)]
        for user in rng.sample(range(1, users + 1), k=max(3, users // 2)):
            score = min(5, max(1, round(rng.gauss(mean, 0.6))))
            when = start + timedelta(days=7 * week + rng.uniform(0.2, 6.8))
            rows.append([f"u{user:03d}", when.strftime("%Y-%m-%dT%H:%M:%SZ"), score])
    rows.sort(key=lambda r: str(r[1]))
    return write_csv(path, ["user_id", "timestamp", "score"], rows)


def operations(path: Path, start: datetime, days: int, per_day: int = 40, seed: int = 13) -> Path:
    """Request log of the pilot system: latency, status, cost and handle time per ticket."""
    rng = random.Random(seed)
    rows: list[list[object]] = []
    for day in range(days):
        for _ in range(per_day):
            when = start + timedelta(days=day, seconds=rng.uniform(0, 86_400))
            latency = round(rng.lognormvariate(6.6, 0.35), 1)
            status = "error" if rng.random() < 0.006 else "ok"
            cost = round(rng.uniform(0.02, 0.06), 4)
            handle = round(max(2.0, rng.gauss(8.9, 2.2)), 2)
            rows.append([when.strftime("%Y-%m-%dT%H:%M:%SZ"), latency, status, cost, handle])
    rows.sort(key=lambda r: str(r[0]))
    return write_csv(path, ["timestamp", "latency_ms", "status", "cost", "handle_time_min"], rows)


def daily_cost(path: Path, start: datetime, days: int, mean: float, seed: int = 17) -> Path:
    rng = random.Random(seed)
    rows = [
        [
            (start + timedelta(days=d)).date().isoformat(),
            round(max(0.0, rng.gauss(mean, mean * 0.12)), 2),
        ]
        for d in range(days)
    ]
    return write_csv(path, ["date", "cost"], rows)


def issues(path: Path, rows: list[list[str]]) -> Path:
    return write_csv(path, ["id", "title", "kind", "severity", "status"], rows)


def document(path: Path, title: str, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n\n{body.strip()}\n", encoding="utf-8")
    return path
