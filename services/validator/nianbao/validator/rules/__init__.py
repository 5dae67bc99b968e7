"""The validator's rule catalogue (report-format.md §3): pure checks of one canonical record.

Public API: :func:`evaluate` → :class:`Evaluation`; :data:`CATALOGUE` (ordered :class:`RuleSpec` entries)
and :data:`RULES_VERSION` (changes whenever a rule's id or version does). No Celery, database or metrics here.
"""

from __future__ import annotations

from nianbao.validator.rules.catalogue import CATALOGUE, RULES_VERSION
from nianbao.validator.rules.engine import Evaluation, evaluate
from nianbao.validator.rules.model import RuleSpec

__all__ = ["CATALOGUE", "RULES_VERSION", "Evaluation", "RuleSpec", "evaluate"]
