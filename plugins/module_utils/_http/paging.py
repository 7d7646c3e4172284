# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

Generators that yield the items of a paged list, one scheme each: the Link header (Okta), @odata.nextLink
(Microsoft Graph), page/per_page with result_info.total_pages (Cloudflare), and offset/limit in a POST body
with details.totalResult (ZITADEL). Each stops after max_pages pages with an error rather than a silently
short list: a lookup that missed an object would create a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .client import RestClient
from .errors import ApiError

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_NEXT = re.compile(r"""rel\s*=\s*"?([^";]*)"?""")


def next_link(header: str | None) -> str | None:
    """The rel="next" target of an RFC 8288 Link header."""
    for target, attributes in _LINK.findall(header or ""):
        for rel in _NEXT.findall(attributes):
            if "next" in rel.split():
                return target
    return None


def _too_many(client: RestClient, method: str, path: str, max_pages: int) -> ApiError:
    return ApiError("Listing {0} {1} returned more than max_pages ({2}) pages; narrow the query (a filter or a "
                    "name) or raise max_pages.".format(method, client.redact_url(client.url_for(path)), max_pages),
                    method=method, url=client.redact_url(client.url_for(path)), code="too_many_pages")


def _items(data: Any, key: str | None, client: RestClient, method: str, path: str) -> Sequence[Any]:
    items = data if key is None else (data.get(key) if isinstance(data, Mapping) else None)
    if items is None:
        return []
    if not isinstance(items, list):
        url = client.redact_url(client.url_for(path))
        raise ApiError("{0} {1} did not answer with a list{2}; check the path.".format(
            method, url, " in {0!r}".format(key) if key else ""), method=method, url=url, code="not_a_list")
    return items


def _count(value: Any) -> int | None:
    """A total from the answer (ZITADEL sends uint64 as a string), or None when absent or unreadable."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def iter_link_pages(client: RestClient, path: str, *, params: Mapping[str, Any] | None = None,
                    items_key: str | None = None, max_pages: int = 100) -> Iterator[Any]:
    """Okta: a JSON list per page, the next page in Link: <...>; rel="next"."""
    url: str | None = path
    for _page in range(max_pages):
        response = client.request("GET", url, params=params)
        yield from _items(response.data, items_key, client, "GET", path)
        url, params = next_link(response.headers.get("Link")), None  # the link carries the query
        if url is None:
            return
    raise _too_many(client, "GET", path, max_pages)


def iter_odata_pages(client: RestClient, path: str, *, params: Mapping[str, Any] | None = None,
                     max_pages: int = 100) -> Iterator[Any]:
    """Microsoft Graph: {"value": [...], "@odata.nextLink": "https://..."}."""
    url: str | None = path
    for _page in range(max_pages):
        data = client.request("GET", url, params=params).data
        yield from _items(data, "value", client, "GET", path)
        url, params = (data or {}).get("@odata.nextLink"), None
        if not url:
            return
    raise _too_many(client, "GET", path, max_pages)


def iter_numbered_pages(client: RestClient, path: str, *, params: Mapping[str, Any] | None = None,
                        per_page: int = 50, items_key: str = "result", max_pages: int = 100) -> Iterator[Any]:
    """Cloudflare: ?page=N&per_page=M, {"result": [...], "result_info": {"page", "total_pages"}}."""
    for page in range(1, max_pages + 1):
        data = client.request("GET", path, params={**(params or {}), "page": page, "per_page": per_page}).data
        items = _items(data, items_key, client, "GET", path)
        yield from items
        total_pages = _count(_dig(data, ("result_info", "total_pages")))
        if not items or (total_pages is not None and page >= total_pages) or \
                (total_pages is None and len(items) < per_page):
            return
    raise _too_many(client, "GET", path, max_pages)


def iter_offset_pages(client: RestClient, path: str, *, body: Mapping[str, Any] | None = None, limit: int = 100,
                      asc: bool = True, items_key: str = "result", query_key: str = "query",
                      total_path: Sequence[str] = ("details", "totalResult"), max_pages: int = 100) -> Iterator[Any]:
    """ZITADEL list calls: POST {..., "query": {"offset", "limit", "asc"}} -> {"result": [...],
    "details": {"totalResult": "N"}} (uint64 as a JSON string). The POST only reads: it is retried as one."""
    offset = 0
    for _page in range(max_pages):
        request = {**(body or {}), query_key: {"offset": str(offset), "limit": limit, "asc": asc}}
        data = client.request("POST", path, json=request, idempotent=True).data
        items = _items(data, items_key, client, "POST", path)
        yield from items
        offset += len(items)
        total = _count(_dig(data, total_path))
        if not items or (total is not None and offset >= total) or (total is None and len(items) < limit):
            return
    raise _too_many(client, "POST", path, max_pages)


def _dig(data: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data
