"""Property-based API tests of every operation in the live app's /openapi.json (schemathesis).

Operations are discovered from the spec at run time, so endpoints added later are covered with no
change here. Each operation gets a bounded number of valid and of invalid generated requests
(``BAZAAR_SCHEMATHESIS_EXAMPLES`` each, default 5), sent as a signed-in user with the staff, seller
and buyer roles (so they reach past the 401s), and checked for: no server error, documented status
codes, content types and headers, bodies matching their response schemas, and invalid input refused
with a 4xx. (Valid-looking input may still be refused by domain rules, so that is not asserted.)
"""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.security import encode_access_token

EXAMPLES = int(os.environ.get("BAZAAR_SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
]


@pytest.fixture(scope="session")
def staff_token(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return encode_access_token(user_id=uuid.uuid4(), session_id=uuid.uuid4(), roles=("staff", "seller", "buyer"))


def _exercise(operation, mode: GenerationMode, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def _describe(error: BaseException) -> str:
    """The error and what it wraps (a Hypothesis FlakyFailure hides the first call's real failure)."""
    text = f"{type(error).__name__}: {error}"
    for inner in getattr(error, "exceptions", ()):
        text += "\n  caused by " + _describe(inner).replace("\n", "\n  ")
    return text


@pytest.mark.slow
def test_every_operation_conforms_to_the_openapi_document(app, staff_token):  # type: ignore[no-untyped-def]
    """schemathesis' pytest plugin (``from_fixture``) breaks on pytest 9, so operations are driven here."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {staff_token}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(operation, mode, headers)
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                continue  # nothing in the operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - report every operation, not the first
                failures[f"{operation.label} [{mode.value}]"] = _describe(error)[:3000]
    assert operations > 10
    print(f"schemathesis: {operations} operations, {EXAMPLES} examples per mode")
    assert not failures, "\n\n".join(f"{label}\n{message}" for label, message in failures.items())
