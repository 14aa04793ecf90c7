"""The paging rule every connector reads its vendor's lists by (``linkmesh_core.paging``)."""

from __future__ import annotations

import grpc
import pytest

from linkmesh_core.errors import ServiceError
from linkmesh_core.paging import ANSWER_MARGIN_S, MAX_PAGES, Page, read_all
from linkmesh_core.vendor_http import Deadline


def pages_of(items: list[int], size: int, fail_on: dict[int, grpc.StatusCode] | None = None):
    asked: list[int] = []

    async def read(n: int, deadline: Deadline) -> Page[int]:
        asked.append(n)
        if fail_on and n in fail_on:
            raise ServiceError(fail_on[n], "vendor said no")
        return Page(items[(n - 1) * size : n * size], more=n * size < len(items))

    return read, asked


async def test_reads_until_the_vendor_says_no_more() -> None:
    read, asked = pages_of(list(range(23)), 10)
    listing = await read_all(read, Deadline.after(5))
    assert listing.items == list(range(23)) and listing.complete and asked == [1, 2, 3]


async def test_stops_once_it_has_what_it_wants() -> None:
    read, asked = pages_of(list(range(23)), 10)
    listing = await read_all(read, Deadline.after(5), want=12)
    assert listing.items == list(range(12)) and listing.complete and asked == [1, 2]


async def test_an_item_repeated_at_a_page_boundary_is_kept_once() -> None:
    async def read(n: int, deadline: Deadline) -> Page[int]:
        return Page([[1, 2, 3], [3, 4, 5], [5]][n - 1], more=n < 3)

    assert (await read_all(read, Deadline.after(5), key=lambda i: i)).items == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED])
async def test_a_later_page_that_cannot_be_read_ends_the_list_in_part(code: grpc.StatusCode) -> None:
    read, _ = pages_of(list(range(30)), 10, {2: code})
    listing = await read_all(read, Deadline.after(5))
    assert listing.items == list(range(10)) and not listing.complete and listing.stopped == code.name.lower()
    strict, _ = pages_of(list(range(30)), 10, {2: code})
    with pytest.raises(ServiceError) as info:
        await read_all(strict, Deadline.after(5), strict=True)
    assert info.value.code == code


async def test_the_first_page_and_other_refusals_fail_the_read() -> None:
    first, _ = pages_of(list(range(30)), 10, {1: grpc.StatusCode.UNAVAILABLE})
    with pytest.raises(ServiceError):
        await read_all(first, Deadline.after(5))
    refused, _ = pages_of(list(range(30)), 10, {2: grpc.StatusCode.UNAUTHENTICATED})
    with pytest.raises(ServiceError):
        await read_all(refused, Deadline.after(5))


async def test_no_later_page_is_started_without_time_to_answer() -> None:
    read, asked = pages_of(list(range(30)), 10)
    listing = await read_all(read, Deadline.after(0.1))
    assert asked == [1] and not listing.complete and listing.stopped == "deadline"


async def test_a_later_page_is_read_within_the_deadline_less_the_time_kept_to_answer() -> None:
    """A page that hangs spends only what is left before the margin: the part read is still answered."""
    given: dict[int, float] = {}

    async def read(n: int, deadline: Deadline) -> Page[int]:
        given[n] = deadline.at
        return Page([n], more=n < 3)

    deadline = Deadline.after(5)
    await read_all(read, deadline)
    assert given[1] == deadline.at
    assert given[2] == given[3] == pytest.approx(deadline.at - ANSWER_MARGIN_S)
    await read_all(read, deadline, strict=True)  # all or nothing: no part to answer, the whole deadline
    assert given[2] == given[3] == deadline.at


async def test_the_page_cap_holds_whatever_the_vendor_says() -> None:
    async def endless(n: int, deadline: Deadline) -> Page[int]:
        return Page([n], more=True)

    listing = await read_all(endless, Deadline.after(5))
    assert len(listing.items) == MAX_PAGES and not listing.complete
    with pytest.raises(ServiceError) as info:
        await read_all(endless, Deadline.after(5), strict=True)
    assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
