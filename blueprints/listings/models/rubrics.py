"""Condition rubrics: what each condition grade means and what a seller must disclose (staff-edited).

``disclosures`` is a list of questions ``{key, label, kind: "boolean" | "text", required, penalty}``:
a seller answers them in ``Listing.condition_answers``; a ``boolean`` answered true (a flaw is
present) takes ``penalty`` points off the grade's ``base_score``, giving the listing's condition score.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, Timestamps, UUIDPk
from blueprints.listings.models.catalog import SCHEMA, ListingCondition, _enum


class ConditionRubric(UUIDPk, Timestamps, Model):
    """The rubric of one condition grade."""

    __tablename__ = "condition_rubrics"
    __table_args__ = (
        UniqueConstraint("grade"),
        CheckConstraint("base_score BETWEEN 0 AND 100", name="base_score_range"),
        CheckConstraint("min_photos BETWEEN 1 AND 12", name="min_photos_range"),
        CheckConstraint("jsonb_typeof(disclosures) = 'array'", name="disclosures_array"),
        {"schema": SCHEMA},
    )

    grade: Mapped[ListingCondition] = mapped_column(_enum(ListingCondition, "rubric_grade"), nullable=False)
    label: Mapped[str] = mapped_column(String(60), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    min_photos: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1", nullable=False)
    base_score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    disclosures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]", nullable=False)

    def __str__(self) -> str:
        return self.label
