"""Hot reads compiled once: the ORM's query and SQL, without building and compiling them per call.

Building a QuerySet (filter, annotate, select_related: each clones the query) and compiling it to
SQL is most of what a read costs this process: measured on the bench's write cycle, a lookup of
a review with its revision joined and an ``Exists`` subquery took 3.0 ms of CPU through the ORM
and 0.5 ms compiled, for the same SQL and the same rows (the database's part is a fraction of
either). The write services run a dozen such reads per transition.

``CompiledQuery(build)``: ``build(**params)`` returns the QuerySet; the first call (per parameter
types) builds it once with stand-ins for the parameters, compiles it, and notes
where each stand-in lands among the SQL's parameters. Every later call runs that SQL with the
call's values in their places, through the same compiler (its select list, its converters), so
the model instances, ``select_related`` objects, annotations and prefetches are the ORM's own.
It runs exactly the SQL the ORM would run for those values (tests/project/test_compiled.py
compares the two).

Parameters are ints, strs (Choices members are), or lists of either (for ``__in``: compiled
once per length, up to MAX_LIST, MAX_FORMS forms in all); a call with any other value (None,
which the ORM turns into ``IS NULL``; a bool; an empty list) is built by the ORM as usual, as is
every call while ``enabled`` is False (the bench's A/B). A query whose parameters the ORM
transforms (``__icontains`` wraps the value in ``%``) or inlines in the SQL, or a Prefetch with
a queryset of its own, cannot be compiled: its first call raises ValueError. The SQL is the
process's database's: the app has one (tests and the bench swap only its name).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import connections
from django.db.models import Model, Prefetch, QuerySet
from django.db.transaction import TransactionManagementError

#: False: every call builds its QuerySet with the ORM (for A/B comparisons).
enabled = True

# Stand-ins no real parameter takes: ints within PostgreSQL's integer range (the ORM answers a
# lookup out of a field's range without a query), strs with private-use characters (closed, so
# that no stand-in is part of another).
_INT_BASE = 2_147_480_000
_STR_MARK = "\ue000plangate-compiled-"

#: Longer lists go to the ORM (the stand-ins of a query stay within the integer range above).
MAX_LIST = 1000
#: Compiled forms kept per query (one per set of parameter types and list lengths: some 80 kB
#: each); calls of any other form go to the ORM.
MAX_FORMS = 32
#: Ints outside a 64-bit column's range go to the ORM, which answers them without the database
#: (SQLite's driver cannot even send one).
_INT_RANGE = range(-(2**63), 2**63)


def _stand_in(index: int, kind: type):
    return _INT_BASE + index if kind is int else f"{_STR_MARK}{index}\ue001"


def _plain(value):
    """``value`` as the plain int or str it is (an IntegerChoices or TextChoices member is
    one), or unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if type(value) in (list, tuple):
        # As the ORM's ``__in`` sends each value once, in order.
        return list(dict.fromkeys(_plain(item) for item in value))
    return value


def _kind(value):
    """What the compiled form depends on: int, str, or for a list of either (an ``__in``
    lookup's: one placeholder each) its element type and length; None: not compiled."""
    if type(value) is str or (type(value) is int and value in _INT_RANGE):
        return type(value)
    if type(value) is list and 0 < len(value) <= MAX_LIST:
        kinds = {_kind(item) for item in value}
        if len(kinds) == 1 and kinds <= {int, str}:
            return (kinds.pop(), len(value))
    return None


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet  # built with the stand-ins: what each call's clone starts from
    compiler: object  # its SQLCompiler, as_sql() run: select, klass_info, col_count, ...
    sql: str
    # Per SQL parameter: (name, None, None) a call's value, (name, i, None) the i-th of a call's
    # list, (None, None, value) a constant.
    slots: tuple
    for_update: bool


FOR_UPDATE_OUTSIDE = "select_for_update cannot be used outside of a transaction."


def _fixed_sql(sql: str, params: tuple, *args, **kwargs) -> tuple[str, tuple]:
    return sql, params


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self.model: type[Model] | None = None  # known once called
        self._compiled: dict[tuple, _Compiled] = {}

    def all(self, **params) -> list:
        """The query's results for ``params`` (keyword arguments of ``build``), as a list."""
        params = {name: _plain(value) for name, value in params.items()}
        kinds = tuple((name, _kind(value)) for name, value in sorted(params.items()))
        compiled = None
        if enabled and all(kind is not None for _, kind in kinds):
            if kinds in self._compiled:
                compiled = self._compiled[kinds]
            elif len(self._compiled) < MAX_FORMS:
                compiled = self._compile(kinds)
        if compiled is None:
            queryset = self.build(**params)
            self.model = queryset.model
            return list(queryset)
        queryset = compiled.queryset._chain()
        connection = connections[queryset.db]
        if compiled.for_update and connection.get_autocommit():  # (as the ORM's as_sql() would)
            raise TransactionManagementError(FOR_UPDATE_OUTSIDE)
        compiler = copy.copy(compiled.compiler)
        compiler.connection, compiler.query = connection, queryset.query
        values = tuple(value if name is None else params[name] if index is None
                       else params[name][index] for name, index, value in compiled.slots)
        compiler.as_sql = partial(_fixed_sql, compiled.sql, values)
        # The clone's query hands its iterable this compiler (ModelIterable, ValuesIterable...).
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)

    def first(self, **params) -> Model | None:
        """The first result or None (``build`` orders and slices: ``[:1]``)."""
        found = self.all(**params)
        return found[0] if found else None

    def get(self, **params):
        """The one result, as QuerySet.get() would: DoesNotExist or MultipleObjectsReturned."""
        found = self.all(**params)
        if len(found) == 1:
            return found[0]
        name = self.model._meta.object_name
        if not found:
            raise self.model.DoesNotExist(f"{name} matching query does not exist.")
        raise self.model.MultipleObjectsReturned(
            f"get() returned more than one {name} -- it returned {len(found)}!")

    def _compile(self, kinds: tuple) -> _Compiled | None:
        """The compiled query for parameters of these types; None (the ORM builds each call)
        when a field refuses a stand-in (a str for an integer column: the ORM says what is
        wrong with the real value, or takes it, say "5")."""
        # A distinct stand-in for every value, and where each goes: (name, None) or (name, i).
        stand_ins, places = {}, {}
        for name, kind in kinds:
            element, length = kind if isinstance(kind, tuple) else (kind, None)
            values = [_stand_in(len(places) + i, element) for i in range(length or 1)]
            places.update({(type(v), v): (name, None if length is None else i)
                           for i, v in enumerate(values)})
            stand_ins[name] = values[0] if length is None else values
        try:
            queryset = self.build(**stand_ins)
        except (TypeError, ValueError, ValidationError):
            self._compiled[kinds] = None
            return None
        self.model = queryset.model
        if any(isinstance(lookup, Prefetch) and lookup.queryset is not None
               for lookup in queryset._prefetch_related_lookups):
            # Run as built, with the stand-ins: it would never see the call's values.
            raise ValueError(f"{self.build.__qualname__}: a Prefetch with a queryset of its "
                             "own cannot be compiled")
        connection = connections[queryset.db]
        for_update = (queryset.query.select_for_update
                      and connection.features.has_select_for_update)
        if for_update and connection.get_autocommit():
            raise TransactionManagementError(FOR_UPDATE_OUTSIDE)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet):  # a stand-in out of a small field's range
            self._compiled[kinds] = None
            return None
        slots = tuple((*places[(type(p), p)], None) if (type(p), p) in places else (None, None, p)
                      for p in params)
        placed = {(name, index) for name, index, _ in slots if name is not None}
        for (_, stand_in), place in places.items():
            inlined = str(stand_in) in sql or any(
                isinstance(p, str) and str(stand_in) in p and p != stand_in for p in params)
            if place not in placed or inlined:
                raise ValueError(f"{self.build.__qualname__}: the parameter {place[0]!r} does "
                                 "not reach the SQL as it is, so the query cannot be compiled")
        compiled = _Compiled(queryset=queryset, compiler=compiler, sql=sql, slots=slots,
                             for_update=for_update)
        self._compiled[kinds] = compiled
        return compiled
