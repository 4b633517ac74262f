"""The condition rating model: grades, their rubrics, answer checks and the derived condition score.

Rubrics live in ``condition_rubrics`` (staff edit them in the admin); a grade without a row uses
its built-in default below, so a fresh install can grade listings before anyone opens the admin.
A rubric asks disclosures; a seller answers them in ``condition_answers``. The score starts at the
grade's ``base_score`` and loses each ``penalty`` whose boolean disclosure was answered true (a flaw
is present): two "good" listings differ by what they disclose. Pricing and search read the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db import db
from blueprints.listings.models import ConditionRubric, ListingCondition

G = ListingCondition


def _q(key: str, label: str, kind: str = "boolean", *, required: bool = True, penalty: int = 0) -> dict[str, Any]:
    return {"key": key, "label": label, "kind": kind, "required": required, "penalty": penalty}


FLAWS = _q("flaws", "Describe every visible flaw (write 'none' if there is none)", "text")
DEFAULT_RUBRICS: dict[ListingCondition, dict[str, Any]] = {
    G.NEW_WITH_TAGS: {
        "label": "New with tags",
        "description": "Never used, original tags or seals still attached.",
        "min_photos": 2,
        "base_score": 100,
        "disclosures": [_q("packaging_opened", "Has the original packaging been opened?", penalty=3)],
    },
    G.NEW_WITHOUT_TAGS: {
        "label": "New without tags",
        "description": "Never used, but tags or packaging are missing.",
        "min_photos": 2,
        "base_score": 92,
        "disclosures": [_q("storage_marks", "Any marks from storage or handling?", penalty=4)],
    },
    G.LIKE_NEW: {
        "label": "Like new",
        "description": "Used briefly; no visible wear on close inspection.",
        "min_photos": 3,
        "base_score": 85,
        "disclosures": [FLAWS, _q("minor_marks", "Any tiny marks visible up close?", penalty=5)],
    },
    G.GOOD: {
        "label": "Good",
        "description": "Used with light, honest wear that does not affect function.",
        "min_photos": 3,
        "base_score": 70,
        "disclosures": [
            FLAWS,
            _q("stains", "Are there stains or discolouration?", penalty=8),
            _q("missing_parts", "Is any part or accessory missing?", penalty=12),
        ],
    },
    G.FAIR: {
        "label": "Fair",
        "description": "Heavy wear or cosmetic damage; still works as intended.",
        "min_photos": 4,
        "base_score": 50,
        "disclosures": [
            FLAWS,
            _q("stains", "Are there stains or discolouration?", penalty=6),
            _q("damage", "Is there structural or cosmetic damage (cracks, tears, dents)?", penalty=10),
            _q("missing_parts", "Is any part or accessory missing?", penalty=10),
        ],
    },
    G.FOR_PARTS: {
        "label": "For parts or not working",
        "description": "Does not work as intended; sold for repair or parts.",
        "min_photos": 2,
        "base_score": 20,
        "disclosures": [
            _q("defects", "What does not work?", "text"),
            _q("powers_on", "Does it still power on or partly work? (answer false if not)", penalty=-5),
        ],
    },
}


@dataclass(frozen=True)
class Rubric:
    grade: ListingCondition
    label: str
    description: str
    min_photos: int
    base_score: int
    disclosures: tuple[Mapping[str, Any], ...]


def _of(grade: ListingCondition, values: Mapping[str, Any]) -> Rubric:
    return Rubric(
        grade=grade,
        label=values["label"],
        description=values["description"],
        min_photos=int(values["min_photos"]),
        base_score=int(values["base_score"]),
        disclosures=tuple(values["disclosures"]),
    )


def load_rubrics() -> dict[ListingCondition, Rubric]:
    """Every grade's rubric: the staff-edited row, else the built-in default (one query)."""
    rubrics = {grade: _of(grade, values) for grade, values in DEFAULT_RUBRICS.items()}
    for row in db.session.execute(select(ConditionRubric)).scalars():
        grade = ListingCondition(row.grade)
        rubrics[grade] = _of(
            grade,
            {
                "label": row.label,
                "description": row.description,
                "min_photos": row.min_photos,
                "base_score": row.base_score,
                "disclosures": row.disclosures,
            },
        )
    return rubrics


def check_answers(rubric: Rubric, answers: Mapping[str, Any], *, complete: bool) -> dict[str, list[str]]:
    """Errors keyed ``condition_answers.<key>``: unknown keys, wrong types, and (``complete``) missing ones."""
    errors: dict[str, list[str]] = {}
    known = {d["key"]: d for d in rubric.disclosures}
    for key, value in answers.items():
        question = known.get(key)
        if question is None:
            errors[f"condition_answers.{key}"] = [f"Not a question of the {rubric.grade.value} rubric."]
        elif question.get("kind") == "text" and not (isinstance(value, str) and len(value) <= 1000):
            errors[f"condition_answers.{key}"] = ["Must be text of at most 1000 characters."]
        elif question.get("kind", "boolean") == "boolean" and not isinstance(value, bool):
            errors[f"condition_answers.{key}"] = ["Must be true or false."]
    if complete:
        for key, question in known.items():
            if not question.get("required", True) or f"condition_answers.{key}" in errors:
                continue
            value = answers.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors[f"condition_answers.{key}"] = [f"Required by the {rubric.label} rubric: {question['label']}"]
    return errors


def condition_score(rubric: Rubric, answers: Mapping[str, Any]) -> int:
    """``base_score`` less the penalty of each flaw disclosed (boolean answered true), within 0..100."""
    score = rubric.base_score
    for question in rubric.disclosures:
        if question.get("kind", "boolean") == "boolean" and answers.get(question["key"]) is True:
            score -= int(question.get("penalty", 0))
    return max(0, min(100, score))


def validate_disclosures(value: Any) -> list[str]:
    """Problems of a rubric's ``disclosures`` document as staff typed it (admin and API)."""
    if not isinstance(value, list):
        return ["Must be a list of questions."]
    problems, seen = [], set()
    for index, question in enumerate(value):
        if not isinstance(question, dict) or not isinstance(question.get("key"), str) or not question.get("label"):
            problems.append(f"Question {index + 1}: needs a key and a label.")
            continue
        if question["key"] in seen:
            problems.append(f"Question {index + 1}: duplicate key {question['key']!r}.")
        seen.add(question["key"])
        if question.get("kind", "boolean") not in ("boolean", "text"):
            problems.append(f"Question {index + 1}: kind must be boolean or text.")
        if not isinstance(question.get("penalty", 0), int):
            problems.append(f"Question {index + 1}: penalty must be an integer.")
    return problems
