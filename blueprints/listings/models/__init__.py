"""Tables of the listings domain (schema ``listings``), one module per concern."""

from blueprints.listings.models.catalog import (
    LANGUAGES,
    SCHEMA,
    Category,
    Listing,
    ListingCondition,
    ListingStatus,
)
from blueprints.listings.models.history import ListingPriceChange, ListingStatusChange, ListingVersion
from blueprints.listings.models.imports import (
    ImportFile,
    ImportFormat,
    ImportIssue,
    ImportJob,
    ImportMode,
    ImportStatus,
)
from blueprints.listings.models.rubrics import ConditionRubric
from blueprints.listings.models.searches import SavedSearch

__all__ = [
    "LANGUAGES",
    "SCHEMA",
    "Category",
    "ConditionRubric",
    "ImportFile",
    "ImportFormat",
    "ImportIssue",
    "ImportJob",
    "ImportMode",
    "ImportStatus",
    "Listing",
    "ListingCondition",
    "ListingPriceChange",
    "ListingStatus",
    "ListingStatusChange",
    "ListingVersion",
    "SavedSearch",
]
