"""What the counsellor already knows about a case: the entities that must not survive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ListedPerson:
    name: str
    relation: str = ""


@dataclass(frozen=True)
class CaseFacts:
    """Everything the anonymiser is told. Built from the case profile or from IN.json."""

    client_name: str = ""
    preferred_name: str = ""
    aliases: tuple[str, ...] = ()
    date_of_birth: date | None = None
    contacts: tuple[str, ...] = ()
    people: tuple[ListedPerson, ...] = ()
    first_session: date | None = None
    # Terms the counsellor added at review: always replaced.
    extra_terms: tuple[str, ...] = field(default=())
