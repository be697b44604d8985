"""Demo content that the app stores encrypted (names, notes, questions, people).

Only data lives in this folder; what is stored in the clear (the demo login, the practice
name, dates, attendance) stays in journal/seed.py, so a check can search instance/ for every
text here and expect to find none.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_cases() -> list[dict[str, Any]]:
    """The demo cases from cases.json."""
    text = resources.files(__package__).joinpath("cases.json").read_text("utf-8")
    return json.loads(text)["cases"]
