# -*- coding: utf-8 -*-
"""Every pagination scheme against the local server: several pages, none, and the bound on pages."""

from __future__ import annotations

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, HttpError
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.paging import (
    iter_link_pages, iter_numbered_pages, iter_odata_pages, iter_offset_pages, next_link)

ITEMS = [{"id": str(number), "name": "app-{0}".format(number)} for number in range(7)]


def _window(start: int, size: int) -> list[dict]:
    return ITEMS[start:start + size]


@pytest.fixture
def okta(server):
    """GET /api/v1/apps?limit=N[&after=cursor]: a JSON list and a Link header to the next page."""
    def apps(request):
        limit, after = int(request.arg("limit", "200")), int(request.arg("after", "0"))
        items = _window(after, limit) if request.arg("q") != "none" else []
        links = ['<{0}/api/v1/apps?limit={1}>; rel="self"'.format(server.url, limit)]
        if after + limit < len(ITEMS) and items:
            links.append('<{0}/api/v1/apps?after={1}&limit={2}>; rel="next"'.format(server.url, after + limit, limit))
        return 200, items, {"Link": ", ".join(links)}
    server.add_route("GET", "/api/v1/apps", apps)


@pytest.fixture
def graph(server):
    """GET /v1.0/applications?$top=N[&$skiptoken=...]: {"value": [...], "@odata.nextLink": absolute URL}."""
    def applications(request):
        top, skip = int(request.arg("$top", "100")), int(request.arg("$skiptoken", "0"))
        page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications",
                "value": _window(skip, top) if request.arg("$filter") != "none" else []}
        if skip + top < len(ITEMS) and page["value"]:
            page["@odata.nextLink"] = "{0}/v1.0/applications?$top={1}&$skiptoken={2}".format(server.url, top, skip + top)
        return page
    server.add_route("GET", "/v1.0/applications", applications)


@pytest.fixture
def cloudflare(server):
    """GET .../access/apps?page=N&per_page=M: {"result": [...], "result_info": {"total_pages", ...}}."""
    def access_apps(request):
        page, per_page = int(request.arg("page")), int(request.arg("per_page"))
        items = ITEMS if request.arg("name") != "none" else []
        pages = max(1, -(-len(items) // per_page))
        return {"success": True, "errors": [], "messages": [],
                "result": items[(page - 1) * per_page:page * per_page],
                "result_info": {"page": page, "per_page": per_page, "count": 0, "total_count": len(items),
                                "total_pages": pages}}
    server.add_route("GET", "/client/v4/accounts/{account}/access/apps", access_apps)


@pytest.fixture
def zitadel(server):
    """POST .../apps/_search {"query": {"offset": "N", "limit": M, "asc": true}} -> details.totalResult."""
    def search(request):
        query = request.json["query"]
        items = ITEMS if not request.json.get("queries") else []
        offset, limit = int(query["offset"]), query["limit"]
        return {"details": {"totalResult": str(len(items)), "viewTimestamp": "2024-01-01T00:00:00Z"},
                "result": items[offset:offset + limit]}
    server.add_route("POST", "/management/v1/projects/{project}/apps/_search", search)


def test_okta_link_pages(harness, server, okta):
    client = harness.client()
    assert list(iter_link_pages(client, "/api/v1/apps", params={"limit": 3})) == ITEMS
    assert [entry["query"].get("after") for entry in server.requests()] == [None, ["3"], ["6"]]
    assert list(iter_link_pages(client, "/api/v1/apps", params={"q": "none"})) == []
    with pytest.raises(ApiError, match=r"more than max_pages \(2\)") as caught:
        list(iter_link_pages(client, "/api/v1/apps", params={"limit": 3}, max_pages=2))
    assert caught.value.code == "too_many_pages"


def test_graph_odata_pages(harness, server, graph):
    client = harness.client(server.url + "/v1.0")
    assert list(iter_odata_pages(client, "/applications", params={"$top": 2})) == ITEMS
    assert len(server.requests()) == 4
    assert list(iter_odata_pages(client, "/applications", params={"$filter": "none"})) == []
    with pytest.raises(ApiError, match="max_pages"):
        list(iter_odata_pages(client, "/applications", params={"$top": 2}, max_pages=3))


def test_a_next_link_to_another_host_is_refused(harness, server):
    server.add_route("GET", "/v1.0/applications", lambda request: {
        "value": [1], "@odata.nextLink": "https://attacker.test/v1.0/applications?$skiptoken=x"})
    with pytest.raises(HttpError, match="Refused to follow https://attacker.test"):
        list(iter_odata_pages(harness.client(server.url + "/v1.0"), "/applications"))


def test_cloudflare_numbered_pages(harness, server, cloudflare):
    client = harness.client(server.url + "/client/v4")
    path = "/accounts/acc1/access/apps"
    assert list(iter_numbered_pages(client, path, per_page=3)) == ITEMS
    assert [entry["query"]["page"] for entry in server.requests()] == [["1"], ["2"], ["3"]]
    assert list(iter_numbered_pages(client, path, params={"name": "none"})) == []
    with pytest.raises(ApiError, match="max_pages"):
        list(iter_numbered_pages(client, path, per_page=2, max_pages=3))


def test_numbered_pages_without_result_info_stop_at_a_short_page(harness, server):
    server.add_route("GET", "/list", lambda request: {"result": _window((int(request.arg("page")) - 1) * 4, 4)})
    assert list(iter_numbered_pages(harness.client(), "/list", per_page=4)) == ITEMS


def test_zitadel_offset_pages(harness, server, zitadel):
    client = harness.client()
    path = "/management/v1/projects/p1/apps/_search"
    assert list(iter_offset_pages(client, path, limit=3)) == ITEMS
    bodies = [entry["body"]["query"] for entry in server.requests()]
    assert bodies == [{"offset": "0", "limit": 3, "asc": True}, {"offset": "3", "limit": 3, "asc": True},
                      {"offset": "6", "limit": 3, "asc": True}]
    filtered = {"queries": [{"nameQuery": {"name": "AWS", "method": "TEXT_QUERY_METHOD_EQUALS"}}]}
    assert list(iter_offset_pages(client, path, body=filtered)) == []
    with pytest.raises(ApiError, match="max_pages"):
        list(iter_offset_pages(client, path, limit=2, max_pages=2))


def test_a_list_post_is_retried_as_a_read(harness, server, zitadel):
    server.fail(503, method="POST")
    assert len(list(iter_offset_pages(harness.client(), "/management/v1/projects/p1/apps/_search"))) == 7


def test_a_page_that_is_not_a_list_is_named(harness, server):
    server.add_route("GET", "/weird", lambda request: {"value": {"not": "a list"}})
    with pytest.raises(ApiError, match="did not answer with a list"):
        list(iter_odata_pages(harness.client(), "/weird"))


@pytest.mark.parametrize("header, expected", [
    ('<https://x.test/a?after=2>; rel="next", <https://x.test/a>; rel="self"', "https://x.test/a?after=2"),
    ('<https://x.test/a>; rel="self", <https://x.test/b>; rel=next', "https://x.test/b"),
    ('<https://x.test/b>; title="n"; rel="prev next"', "https://x.test/b"),
    ('<https://x.test/a>; rel="self"', None),
    ("", None),
    (None, None),
])
def test_next_link(header, expected):
    assert next_link(header) == expected
