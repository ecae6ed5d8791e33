"""Sorting, searching and paging of the generic list views: parameters come from URLs people
bookmark and edit, so bad ones fall back to defaults instead of failing."""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from dashboard.core.generic.views import ListQuery, page_of

pytestmark = pytest.mark.unit

SORTABLE = ("name", "size")


def query_from(**params) -> ListQuery:
    return ListQuery.from_request(RequestFactory().get("/", params), sortable=SORTABLE, default_sort="name")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ListQuery(sort="name", descending=False, page=1, per_page=25)),
        (
            {"sort": "size", "dir": "desc", "page": "3", "per_page": "50", "q": " db "},
            ListQuery(search="db", sort="size", descending=True, page=3, per_page=50),
        ),
        ({"sort": "password"}, ListQuery(sort="name")),
        ({"page": "-2"}, ListQuery(sort="name", page=1)),
        ({"page": "two"}, ListQuery(sort="name", page=1)),
        ({"per_page": "100000"}, ListQuery(sort="name", per_page=25)),
        ({"dir": "sideways"}, ListQuery(sort="name", descending=False)),
    ],
)
def test_list_parameters_are_read_or_fall_back_to_defaults(params, expected):
    assert query_from(**params) == expected


def test_a_list_can_default_to_newest_first():
    request = RequestFactory().get("/")
    assert ListQuery.from_request(request, sortable=SORTABLE, default_sort="name", default_descending=True).descending
    request = RequestFactory().get("/", {"dir": "asc"})
    assert not ListQuery.from_request(
        request, sortable=SORTABLE, default_sort="name", default_descending=True
    ).descending


ITEMS = [
    SimpleNamespace(name=name, size=size)
    for name, size in [("web-1", 30), ("db-1", None), ("web-2", 10), ("cache", 20), ("web-3", 40)]
]
PAGE_OF = {
    "search_key": lambda item: item.name,
    "sort_keys": {"name": lambda item: item.name, "size": lambda item: item.size},
}


def names(page) -> list[str]:
    return [item.name for item in page.items]


def test_search_is_a_case_insensitive_substring_match():
    assert names(page_of(ITEMS, ListQuery(search="WEB", sort="name"), **PAGE_OF)) == ["web-1", "web-2", "web-3"]


@pytest.mark.parametrize(
    ("descending", "expected"),
    [
        (False, ["web-2", "cache", "web-1", "web-3", "db-1"]),
        (True, ["web-3", "web-1", "cache", "web-2", "db-1"]),
    ],
)
def test_unknown_values_sort_last_in_either_direction(descending, expected):
    assert names(page_of(ITEMS, ListQuery(sort="size", descending=descending), **PAGE_OF)) == expected


def test_pages_cut_the_sorted_list_and_know_their_neighbours():
    first = page_of(ITEMS, ListQuery(sort="name", per_page=2, page=1), **PAGE_OF)
    last = page_of(ITEMS, ListQuery(sort="name", per_page=2, page=3), **PAGE_OF)

    assert names(first) == ["cache", "db-1"]
    assert (first.total, first.page_count, first.previous_page, first.next_page) == (5, 3, None, 2)
    assert names(last) == ["web-3"]
    assert (last.first_index, last.last_index, last.previous_page, last.next_page) == (5, 5, 2, None)


def test_an_empty_result_counts_from_zero():
    empty = page_of(ITEMS, ListQuery(search="nothing", sort="name"), **PAGE_OF)
    assert (empty.total, empty.first_index, empty.last_index, empty.page_count) == (0, 0, 0, 1)
