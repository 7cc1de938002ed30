"""The playbook's adoption risks, assessed per use case from its spec and verified chain."""

from gates.risks.register import RISK_IDS, Risk, assess_risks

__all__ = ["RISK_IDS", "Risk", "assess_risks"]
