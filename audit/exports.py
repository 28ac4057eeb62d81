"""Streaming exports of a filtered set of audit entries (CSV and JSON Lines).

Rows come from `.values_list(...).iterator(chunk_size=...)` (a server-side cursor on PostgreSQL)
and are yielded in small batches, so memory stays flat however many entries are exported.
Rows are in id order, so an export of the whole trail can be checked link by link.
"""

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

FIELDS = (
    "id", "created_at", "action", "actor_id", "actor_repr", "object_type", "object_id",
    "object_repr", "plan_id", "revision_hash", "ip_address", "user_agent", "payload",
    "prev_hash", "entry_hash",
)
CHUNK_SIZE = 2000
BATCH_ROWS = 500
# Spreadsheet formula injection: a cell starting with one of these is prefixed with a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _rows(queryset: QuerySet, chunk_size: int) -> Iterator[dict]:
    values = queryset.order_by("id").values_list(*FIELDS).iterator(chunk_size=chunk_size)
    for row in values:
        item = dict(zip(FIELDS, row, strict=True))
        item["created_at"] = item["created_at"].isoformat()
        yield item


def _batched(lines: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_stream(queryset: QuerySet, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(FIELDS)
        for item in _rows(queryset, chunk_size):
            yield writer.writerow([_csv_cell(item[name]) for name in FIELDS])

    return _batched(lines())


def jsonl_stream(queryset: QuerySet, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    return _batched(
        json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n"
        for item in _rows(queryset, chunk_size)
    )
