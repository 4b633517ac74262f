"""Reading an uploaded file into numbered rows, with clear errors for files that cannot be read.

CSV goes through the standard ``csv`` module (quoted fields, embedded newlines and doubled quotes
all work); JSON Lines is one JSON object per line. File-level problems (not UTF-8, not CSV at all,
empty, missing or unknown columns) raise :class:`ImportFileError` with a code and a message naming
what is wrong; row-level problems are left to validation.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
REQUIRED_COLUMNS = ("title", "category", "price_amount", "currency", "condition")
OPTIONAL_COLUMNS = (
    "sku", "description", "quantity", "condition_answers", "attributes", "photos", "shipping_options",
    "location_label", "country", "latitude", "longitude", "language", "publish",
)  # fmt: skip
ATTRIBUTE_PREFIX = "attr."
csv.field_size_limit(1024 * 1024)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is written)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedFile:
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]  # (row number, 1 = first data row; raw values)


def _text(content: bytes) -> str:
    if not content.strip():
        raise ImportFileError("empty_file", "The file is empty.")
    if b"\x00" in content[:4096]:
        raise ImportFileError("not_text", "The file is not a text file (binary content found).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "wrong_encoding",
            f"The file is not UTF-8 (invalid byte 0x{content[error.start]:02x} at position {error.start}); "
            "save it as UTF-8 and upload it again.",
        ) from None
    if not text.strip():
        raise ImportFileError("empty_file", "The file is empty.")
    return text


def check_columns(columns: list[str], *, require: bool = True) -> tuple[str, ...]:
    cleaned = [c.strip() for c in columns]
    if len(set(cleaned)) != len(cleaned):
        twice = sorted({c for c in cleaned if cleaned.count(c) > 1})
        raise ImportFileError("duplicate_columns", f"Columns appear twice: {', '.join(twice)}.")
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unknown = [c for c in cleaned if c not in known and not (c.startswith(ATTRIBUTE_PREFIX) and len(c) > 5)]
    missing = [c for c in REQUIRED_COLUMNS if c not in cleaned] if require else []
    problems = []
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)} (attributes go in attr.<name> columns)")
    if problems:
        raise ImportFileError("bad_columns", "The header has " + "; ".join(problems) + ".")
    return tuple(cleaned)


def read_csv(content: bytes) -> ParsedFile:
    text = _text(content)
    if text.lstrip()[:1] in ("{", "["):
        raise ImportFileError("not_csv", "The file looks like JSON, not CSV; upload JSON Lines as format=jsonl.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise ImportFileError("not_csv", f"The file is not valid CSV: {error}.") from None
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    if not any(c.strip() in known for c in header):
        separators = [sep for sep in (";", "\t", "|") if sep in header[0]] if len(header) == 1 else []
        hint = f" (it seems separated by {separators[0]!r}; use commas)" if separators else ""
        raise ImportFileError(
            "not_csv",
            "The file does not look like a listings CSV: its first line is not a header naming columns "
            f"such as {', '.join(REQUIRED_COLUMNS)}{hint}.",
        )
    columns = check_columns(header)
    rows: list[tuple[int, dict[str, Any]]] = []
    number = 0
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            number += 1
            if number > MAX_ROWS:
                raise ImportFileError("too_many_rows", f"The file has more than {MAX_ROWS:,} rows.")
            if len(record) != len(columns):
                rows.append((number, {"__shape__": f"Has {len(record)} fields; the header has {len(columns)}."}))
                continue
            rows.append((number, dict(zip(columns, record, strict=True))))
    except csv.Error as error:
        raise ImportFileError(
            "not_csv", f"The file is not valid CSV near data row {number + 1} (line {reader.line_num}): {error}."
        ) from None
    if not rows:
        raise ImportFileError("empty_file", "The file has a header but no rows.")
    return ParsedFile(columns, rows)


def read_jsonl(content: bytes) -> ParsedFile:
    text = _text(content)
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        number += 1
        if number > MAX_ROWS:
            raise ImportFileError("too_many_rows", f"The file has more than {MAX_ROWS:,} rows.")
        try:
            value = json.loads(line)
        except ValueError as error:
            if number == 1:
                raise ImportFileError(
                    "not_jsonl", f"The file is not JSON Lines: line 1 is not JSON ({error})."
                ) from None
            rows.append((number, {"__shape__": f"Not valid JSON: {error}."}))
            continue
        if not isinstance(value, dict):
            rows.append((number, {"__shape__": "Each line must be a JSON object."}))
            continue
        seen.update(value)
        rows.append((number, value))
    if not rows:
        raise ImportFileError("empty_file", "The file has no rows.")
    columns = check_columns(sorted(seen), require=False)  # a row missing a required key is a row error
    return ParsedFile(columns, rows)


def read_file(content: bytes, file_format: str) -> ParsedFile:
    if len(content) > MAX_BYTES:
        raise ImportFileError("too_large", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return read_csv(content) if file_format == "csv" else read_jsonl(content)


def iter_batches(rows: list[tuple[int, dict[str, Any]]], start: int, size: int) -> Iterator[list[tuple[int, dict]]]:
    for offset in range(start, len(rows), size):
        yield rows[offset : offset + size]
