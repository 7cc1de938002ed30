"""Exit criteria per stage: the playbook's defaults as data, merged with overrides."""

from gates.policy.effective import criteria_digest, default_policy, effective_criteria
from gates.policy.model import ExitCriteria

__all__ = ["ExitCriteria", "criteria_digest", "default_policy", "effective_criteria"]
