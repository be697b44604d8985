"""The anonymiser: pure functions from text and what the counsellor knows to safer text.

No Flask, no database, no network. The web export, the `anonymise` batch command and the
evaluation in tests/ all call `Anonymiser`; there is no second implementation.
"""

from __future__ import annotations

from .engine import Anonymiser, Replacement, anonymise_texts
from .facts import CaseFacts, ListedPerson

__all__ = ["Anonymiser", "CaseFacts", "ListedPerson", "Replacement", "anonymise_texts"]
