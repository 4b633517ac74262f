"""The README's curl tour, pasted as a new user would: every ``sh`` block of its tour section, in order,
in one bash, against the running system. A tour that drifts from the API fails here, not for a reader."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOUR_HEADING = "## A tour"

pytestmark = pytest.mark.slow


def tour_script(readme: str) -> str:
    start = readme.index(TOUR_HEADING)
    end = readme.find("\n## ", start + len(TOUR_HEADING))
    section = readme[start : end if end != -1 else None]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 8, "the tour lost its steps"
    return "\n".join(blocks)


def json_documents(output: str) -> list[object]:
    """The JSON values printed at the start of a line, in order (jq pretty-prints over several lines)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while match := re.compile(r"^[\[{]", re.M).search(output, position):
        try:
            value, position = decoder.raw_decode(output, match.start())
        except json.JSONDecodeError:  # not JSON (the payout command prints a Python dict)
            position = match.start() + 1
            continue
        documents.append(value)
    return documents


def test_the_readme_tour_runs_as_pasted(system, e2e_environ):  # type: ignore[no-untyped-def]
    if not (ROOT / ".venv" / "bin" / "bazaar").exists():
        pytest.fail("the tour calls .venv/bin/bazaar: run the suite through `make test`")
    script = tour_script((ROOT / "README.md").read_text())
    environ = {
        **e2e_environ,
        "BAZAAR": system.base_url,
        # `bazaar mail show` reads $BAZAAR_VAR_DIR/mail: the system's SMTP inbox is that Maildir.
        "BAZAAR_VAR_DIR": str(system.inbox.path.parent),
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"the tour stopped:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    out = result.stdout
    documents = json_documents(out)

    assert {"email_verified": True} in documents
    assert any(isinstance(d, dict) and d.get("status") == "published" for d in documents)
    found = next(d for d in documents if isinstance(d, dict) and "items" in d and "facets" in d)
    assert [item["price"] for item in found["items"]] == [{"amount": 12000, "currency": "USD"}]
    assert ["Does the lid fit tightly?"] in documents
    assert {"state": "accepted", "price": {"amount": 10500, "currency": "USD"}} in documents
    assert {"status": "reserved"} in documents
    assert {"state": "released"} in documents
    balances = next(d for d in documents if isinstance(d, list) and d and "available" in str(d[0]))
    usd = next(b for b in balances if b["currency"] == "USD")
    assert (usd["available"], usd["in_escrow"]) == (9450, 0), "105.00 less the 10% commission, nothing left held"
    assert {"provider": "sandbox", "payouts_enabled": True} in documents
    assert re.search(r"'opened': [1-9]\d*, 'sent': [1-9]\d*, 'failed': 0", out), out[-2000:]
    payouts = documents[-1]
    assert isinstance(payouts, list) and len(payouts) == 1
    assert payouts[0]["value"] == {"amount": 9450, "currency": "USD"}
    assert payouts[0]["state"] in ("sent", "paid")
