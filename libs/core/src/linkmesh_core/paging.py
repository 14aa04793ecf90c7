"""Reading a vendor's list page after page.

No list is read as one page on trust. A connector describes how its vendor pages
(``read_page(n, deadline)`` answering the page's items and whether the vendor says
more follow: a total, a page count, a full page) and :func:`read_all` reads until
the vendor says there is no more, or until the caller has what it needs.

The first page is the call: when it fails, the read fails as any call does. A later
page is read only while the deadline, less a margin to answer in, allows, and when
it cannot be read (deadline, vendor unavailable, rate limit) the read stops and
answers what it has with ``complete=False``, so the caller shows what was read and
marks what was not (``lookup.v1`` ``partial``) instead of failing everything, or
showing part of a list as if it were all of it.

A read whose answer decides something (a search that auto-links on a unique
match) is ``strict``: a list it cannot read to its end fails instead, since one
match out of a list read in part is not a unique match.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc

from linkmesh_core.errors import ServiceError
from linkmesh_core.vendor_http import Deadline

T = TypeVar("T")
log = logging.getLogger("linkmesh.paging")

#: Time kept back from the deadline when a later page is read, to answer in.
ANSWER_MARGIN_S = 0.25
#: Pages read at most for one list, whatever the vendor says.
MAX_PAGES = 40
#: Failures of a later page that end the read with what was read so far.
GIVE_UP = {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}

# The values of ``lookup.v1`` ``Order.partial`` and ``Customer.partial``.
ORDERS, RETURNS, SHIPMENTS, LINES, PRODUCT_LINKS = "orders", "returns", "shipments", "lines", "product_links"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    #: The vendor says more items follow this page.
    more: bool


@dataclass
class Listing(Generic[T]):
    items: list[T] = field(default_factory=list)
    #: False when the vendor had more than was read.
    complete: bool = True
    #: Why the read stopped early ("deadline", "40 pages", a status code name).
    stopped: str = ""


async def read_all(
    read_page: Callable[[int, Deadline], Awaitable[Page[T]]],
    deadline: Deadline,
    *,
    want: int | None = None,
    key: Callable[[T], Hashable] | None = None,
    max_pages: int = MAX_PAGES,
    what: str = "list",
    strict: bool = False,
) -> Listing[T]:
    """Pages 1, 2, ... until the vendor says no more follow or ``want`` items are read.

    ``key`` drops an item seen on an earlier page (a list that shifted between two
    page reads repeats an item at the page boundary). ``strict``: raise rather than
    answer part of the list."""
    listing: Listing[T] = Listing()
    seen: set[Hashable] = set()

    def add(items: list[T]) -> None:
        for item in items:
            if key is not None:
                k = key(item)
                if k in seen:
                    continue
                seen.add(k)
            listing.items.append(item)

    page = await read_page(1, deadline)
    add(page.items)
    number = 1
    while page.more and page.items and (want is None or len(listing.items) < want):
        if number >= max_pages:
            if strict:
                raise ServiceError(grpc.StatusCode.RESOURCE_EXHAUSTED, f"the {what} is longer than {max_pages} pages")
            return _stop(listing, f"{max_pages} pages", what)
        soft = deadline if strict else Deadline(deadline.at - ANSWER_MARGIN_S)
        if soft.remaining() <= 0:
            if strict:
                raise ServiceError(grpc.StatusCode.DEADLINE_EXCEEDED, f"the {what} could not be read to its end in time")
            return _stop(listing, "deadline", what)
        number += 1
        try:
            page = await read_page(number, soft)
        except ServiceError as err:
            if strict or err.code not in GIVE_UP:
                raise
            return _stop(listing, err.code.name.lower(), what)
        add(page.items)
    if want is not None:
        del listing.items[want:]
    return listing


def _stop(listing: Listing[T], why: str, what: str) -> Listing[T]:
    listing.complete, listing.stopped = False, why
    log.info("%s read in part: %d items, stopped on %s", what, len(listing.items), why)
    return listing
