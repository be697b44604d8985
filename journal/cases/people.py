"""People in the client's life: a relationship map, and the names the export pseudonymises."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from ..keyring import Keyring
from ..models import PRIVATE, Case, Person, new_id
from .errors import InvalidChange
from .sealing import seal, unseal

MAX_NAME_CHARS = 200
MAX_RELATION_CHARS = 100


@dataclass
class PersonView:
    person: Person
    name: str
    relation: str


def _check(name: str, relation: str) -> tuple[str, str]:
    name, relation = " ".join(name.split()), " ".join(relation.split())
    if not name or len(name) > MAX_NAME_CHARS or len(relation) > MAX_RELATION_CHARS:
        raise InvalidChange("person")
    return name, relation


def add_person(db: Session, keyring: Keyring, case: Case, name: str, relation: str) -> Person:
    """Record someone in the client's life."""
    name, relation = _check(name, relation)
    key = keyring.case_key(case.id, PRIVATE)
    person_id = new_id()
    person = Person(
        id=person_id, case_id=case.id,
        name_sealed=seal(key, name, "people", person_id, "name", case.id),
        relation_sealed=seal(key, relation, "people", person_id, "relation", case.id),
    )
    db.add(person)
    return person


def update_person(keyring: Keyring, person: Person, name: str, relation: str) -> None:
    """Correct a name or relation."""
    name, relation = _check(name, relation)
    key = keyring.case_key(person.case_id, PRIVATE)
    person.name_sealed = seal(key, name, "people", person.id, "name", person.case_id,
                              person.name_sealed)
    person.relation_sealed = seal(key, relation, "people", person.id, "relation",
                                  person.case_id, person.relation_sealed)


def remove_person(db: Session, person: Person) -> None:
    """Forget someone (their sealed name is deleted with the row)."""
    db.execute(delete(Person).where(Person.id == person.id))


@functools.cache
def _people_query() -> Select:
    # Built once, bound per request (see "Statements" in db.py): every case page lists them.
    return (select(Person).where(Person.case_id == bindparam("case_id"))
            .order_by(Person.created_at))


def people_of(db: Session, keyring: Keyring, case: Case) -> list[PersonView]:
    """Everyone recorded for this case, decrypted, in the order they were added."""
    rows = db.scalars(_people_query(), {"case_id": case.id}).all()
    if not rows:
        return []
    key = keyring.case_key(case.id, PRIVATE)
    return [PersonView(p, unseal(key, p.name_sealed, "people", p.id, "name", case.id),
                       unseal(key, p.relation_sealed, "people", p.id, "relation", case.id))
            for p in rows]
