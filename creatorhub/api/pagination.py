"""Keyset pagination on (-created_at, -id): the cost of a page does not grow with its depth.

A view whose rows are timed by another field names it in `keyset_field` (e.g. "occurred_at").

The position is one row comparison, `(created_at, id) < (t, pk)`, which PostgreSQL's index on
(site, -created_at, -id) starts at directly; spelled `created_at < t OR (created_at = t AND id < pk)`,
the index is read from the newest row and every row before the position is skipped one by one, so a
deep page costs more the deeper it is. Django writes that spelling on databases without row comparisons."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

from creatorhub.compiled import STAND_IN_ID, STAND_IN_MOMENT, built
from creatorhub.paging import BadCursor, decode_cursor, encode_cursor


@dataclass(frozen=True)
class SameShape:
    """What a list view hands the paginator instead of a queryset when the rows' SQL depends only on
    `key` and the page's position and size: the ORM builds the query from `build()` once per shape and
    process, and each page runs it with its own position (creatorhub.compiled). PostgreSQL only: there
    a position goes into the query as it is."""

    key: tuple
    build: Callable[[], QuerySet]


class KeysetPagination(BasePagination):
    """`{"results": [...], "next": url|null, "previous": url|null}`; `?cursor=` moves, `?page_size=`
    (up to 200) sizes. Newest first; ties on created_at are broken by id."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        """A page of `queryset`, or of a SameShape's rows."""
        self.request = request
        self.field = getattr(view, "keyset_field", "created_at")
        size = self._page_size(request)
        backwards, position = self._decode(request.query_params.get(self.cursor_query_param))
        if isinstance(queryset, SameShape):
            page = self._built_page(queryset, size, backwards, position)
        else:
            page = list(self._ordered(queryset, backwards, position)[: size + 1])
        more = len(page) > size
        page = page[:size]
        if backwards:
            page.reverse()
        self._next = page[-1] if page and (more or backwards) else None
        self._previous = page[0] if page and position is not None and (more or not backwards) else None
        return page

    def _ordered(self, queryset, backwards: bool, position: tuple | None):
        """The rows after `position` (before it, `backwards`), nearest first."""
        field = self.field
        if position is None:
            return queryset.order_by(f"-{field}", "-id")
        key = Tuple(F(field), F("id"))
        if backwards:
            return queryset.filter(TupleGreaterThan(key, position)).order_by(field, "id")
        return queryset.filter(TupleLessThan(key, position)).order_by(f"-{field}", "-id")

    def _built_page(self, shape: "SameShape", size: int, backwards: bool, position: tuple | None) -> list:
        stand_ins = [] if position is None else [STAND_IN_MOMENT, STAND_IN_ID]
        query = built(
            ("page", shape.key, self.field, size, backwards, position is None),
            lambda: self._ordered(shape.build(), backwards, tuple(stand_ins) or None)[: size + 1],
            stand_ins,
        )
        return query.rows(position or ())

    def get_paginated_response(self, data):
        return Response(
            {
                "results": data,
                "next": self._link(self._next, False),
                "previous": self._link(self._previous, True),
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {"results": schema, "next": link, "previous": link},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "The cursor of the page, from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page, up to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return api_settings.PAGE_SIZE
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def _link(self, row, backwards: bool) -> str | None:
        if row is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(
            remove_query_param(url, self.cursor_query_param),
            self.cursor_query_param,
            encode_cursor(row, self.field, backwards=backwards),
        )

    def _decode(self, cursor: str | None):
        if not cursor:
            return False, None
        try:
            backwards, moment, pk = decode_cursor(cursor)
        except BadCursor:
            raise ValidationError({self.cursor_query_param: ["This cursor is not valid."]}) from None
        return backwards, (moment, pk)
