"""Reads of the audit trail."""

import functools
import hashlib
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import get_script_prefix
from django.utils import timezone

from core import cache as shared_cache

from .actions import UNVERSIONED
from .models import AuditEntry

COUNT_CACHE_SECONDS = 24 * 60 * 60


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _matching(*, plan: int | None = None, actor: str = "", action: str = "",
              date_from: date | None = None, date_to: date | None = None) -> Q:
    q = Q()
    if plan:
        q &= Q(plan_id=plan)
    if actor:
        q &= Q(actor_repr__iexact=actor)
    if action:
        q &= Q(action=action)
    if date_from:
        q &= Q(created_at__gte=_start_of(date_from))
    if date_to:
        q &= Q(created_at__lt=_start_of(date_to + timedelta(days=1)))
    return q


def entries_filtered(**filters) -> QuerySet:
    """Entries matching every given filter (plan, actor, action, date_from, date_to), newest
    first. date_to is inclusive."""
    return AuditEntry.objects.filter(_matching(**filters)).order_by("-id")


class Counted(NamedTuple):
    count: int
    top: tuple[int, str] | None  # the newest matching entry's (id, chain hash); None if none


def count_filtered(**filters) -> Counted:
    """``entries_filtered(**filters).count()``, without counting the whole trail each time, and
    the newest entry counted.

    Exact, because the trail only grows, in id order: entries are append-only, and log() takes
    the chain lock before inserting, so ids are handed out in commit order; once entry N is
    visible, no entry below N can appear. So the count up to N never changes once known: the
    cache keeps (N, N's hash, count) per filter, and a call reads only the entries after N (a
    range of the primary key) and entry N itself, to check it is still the entry counted (a
    database restored from a backup is recounted). Without the cache, or after many new
    entries, a full count."""
    key = count_key(filters)
    known = shared_cache.get(key)
    matching = _matching(**filters)
    if known is None:
        return _recount(key, matching)
    upto, upto_hash, count = known
    rows = list(  # id >= upto first: the index range (the OR alone scans the whole trail)
        AuditEntry.objects.filter(Q(id__gte=upto), (matching & Q(id__gt=upto)) | Q(id=upto))
        .order_by("-id").values_list("id", "entry_hash")[:_NEWER_AT_MOST + 1]
    )
    if not rows or rows[-1] != (upto, upto_hash):  # too many newer, or not the trail counted
        return _recount(key, matching)
    rows.pop()
    if rows:
        count += len(rows)
        _remember(key, rows[0], count)
    return Counted(count, rows[0] if rows else (upto, upto_hash))


_NEWER_AT_MOST = 200  # more new entries than this since the last count: count them all


def count_key(filters: dict) -> str:
    return "audit:count:" + hashlib.sha256(
        repr((sorted(filters.items()), str(timezone.get_current_timezone()))).encode()
    ).hexdigest()


def page_key(filters: dict, page: str | None, size: int) -> str:
    """The cache key of the audit list's page ``page`` (as asked for: a number, or anything
    Paginator.get_page reads as the first or last page) of ``entries_filtered(**filters)``.
    Kept with the newest entry counted (count_filtered): up to a given entry, the trail never
    changes, and its chain hash covers every entry before it, so a page kept with the top
    counted now is the page now. The script prefix is in the key for the links."""
    return "audit:page:v1:" + hashlib.sha256(repr(
        (count_key(filters), page, size, get_script_prefix())).encode()
    ).hexdigest()


def _recount(key: str, matching: Q) -> Counted:
    entries = AuditEntry.objects.filter(matching)
    top = entries.order_by("-id").values_list("id", "entry_hash").first()
    if top is None:
        return Counted(0, None)
    count = entries.filter(id__lte=top[0]).count()  # up to top: what a newer entry cannot change
    _remember(key, top, count)
    return Counted(count, top)


def _remember(key: str, top: tuple[int, str], count: int) -> None:
    shared_cache.set(key, (*top, count), COUNT_CACHE_SECONDS)


def plan_timeline(plan_id: int) -> QuerySet:
    """Everything that happened to one plan, oldest first."""
    return AuditEntry.objects.filter(plan_id=plan_id).order_by("id")


#: The condition of migration 0005's partial index, written out as it is there: SQLite uses a
#: partial index only for a query whose condition matches it, and bound parameters do not.
_VERSIONED = "action NOT IN ({})".format(", ".join(f"'{name}'" for name in UNVERSIONED))


def latest_entry_hash() -> QuerySet:
    """The chain hash of the newest entry that can change what a page shows (any action but
    audit.actions.UNVERSIONED), as a query of at most one row (read it, or use it as a
    subquery): one row of migration 0005's index. Every service writes an entry inside its
    transaction and appends are serialised in commit order (audit/log.py), so it changes with
    every committed write; and no other database's trail has it: a cache version that is never
    stale, even in a cache shared by several databases."""
    return (AuditEntry.objects.extra(where=[_VERSIONED]).order_by("-id")  # noqa: S610
            .values_list("entry_hash", flat=True)[:1])


# --- the data version: what caches of pages are kept under -----------------------------------
@functools.cache
def _heads_sql() -> tuple[tuple[str, tuple], tuple[str, tuple]]:
    """The SQL of the newest entry's hash and of the number of admin history rows, compiled
    once per process (compiling the subqueries on every page view cost more than running them).
    A count, not the newest id: history ids are not handed out in commit order (no lock), so
    an earlier id committing later would leave the newest id unchanged; every commit of a row
    changes the count (the history is small: admins' edits only)."""
    admin_rows = (LogEntry.objects.order_by()
                  .annotate(n=Func(F("id"), function="COUNT")).values("n"))
    return tuple((f"({sql})", tuple(params)) for sql, params in
                 (q.query.sql_with_params() for q in (latest_entry_hash(), admin_rows)))


def _version(audit_head: str | None, admin_head: int | None) -> str | None:
    return None if audit_head is None else f"{audit_head[:32]}.{admin_head or 0}"  # 128 bits


def data_version() -> str | None:
    """The version of everything the app shows: the newest audit entry's chain hash (every
    service writes an entry inside its transaction, appended in commit order: audit/log.py;
    failed logins and password changes, which change nothing shown, are skipped) and
    the number of admin history rows (an admin's edit of a user writes one), in one statement.
    Any committed write is a new version, and no other database's trail has it, so a cache
    shared by several databases never mixes them up. None before the first audited write
    (nothing is cached then). A write that is neither (the ORM from a shell, a bulk load) is not
    seen until the next one."""
    (audit_sql, audit_params), (admin_sql, admin_params) = _heads_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {audit_sql}, {admin_sql}", [*audit_params, *admin_params])
        return _version(*cursor.fetchone())


def with_data_version(queryset: QuerySet) -> QuerySet:
    """``queryset`` reading data_version too, in the same query (data_version_of its rows)."""
    (audit_sql, audit_params), (admin_sql, admin_params) = _heads_sql()
    return queryset.annotate(
        audit_head=RawSQL(audit_sql, audit_params),  # noqa: S611 - the ORM's own SQL, no input
        admin_head=RawSQL(admin_sql, admin_params),  # noqa: S611
    )


def data_version_of(row) -> str | None:
    """data_version as read with ``row`` (with_data_version)."""
    return _version(getattr(row, "audit_head", None), getattr(row, "admin_head", None))
