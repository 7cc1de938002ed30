"""Promotion enforced downstream: after a passing gate, point a model alias at the gated version."""

from gates.promotion.mlflow_alias import move_alias

__all__ = ["move_alias"]
