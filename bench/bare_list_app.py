"""The baseline of bench/api_list.py: a bare Flask view over psycopg doing what the generated list does.

Same SQL text and parameters (captured from the generated endpoint by the benchmark and passed in
``BENCH_SPEC``), same JSON document (items, links with a signed next cursor), serialised with the same
``json.dumps``. No ORM, no marshmallow, no policy code, no middleware: the ceiling to compare with.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response, request
from itsdangerous import URLSafeTimedSerializer
from psycopg_pool import ConnectionPool

with open(os.environ["BENCH_SPEC"]) as spec_file:
    SPEC = json.load(spec_file)

pool = ConnectionPool(SPEC["dsn"], min_size=2, max_size=8, open=True)
signer = URLSafeTimedSerializer(SPEC["secret"], salt=SPEC["salt"])
app = Flask(__name__)


def _value(kind: str, value: Any) -> Any:
    if value is None or kind == "plain":
        return value
    if kind == "iso":
        return value.isoformat()
    return str(value)  # uuid, enum stored as text


@app.get("/listings")
def listings() -> Response:
    limit = SPEC["limit"]
    with pool.connection() as conn:
        rows = conn.execute(SPEC["sql"], SPEC["params"]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    index = SPEC["index"]
    items = []
    for row in rows:
        item: dict[str, Any] = {}
        for key, kind, columns in SPEC["plan"]:
            if kind == "money":
                amount = row[index[columns[0]]]
                item[key] = None if amount is None else {"amount": amount, "currency": row[index[columns[1]]]}
            else:
                item[key] = _value(kind, row[index[columns[0]]])
        items.append(item)
    next_link = None
    if more and rows:
        last = rows[-1]
        values = [_value(kind, last[index[column]]) for column, kind in SPEC["cursor_keys"]]
        token = signer.dumps({"d": "n", "v": values, "q": SPEC["fingerprint"]})
        next_link = f"{request.path}?limit={limit}&cursor={token}"
    body = {"items": items, "links": {"next": next_link, "prev": None}}
    return Response(json.dumps(body), mimetype="application/json")
