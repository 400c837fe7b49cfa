"""ReadAhead: pages read on a thread ahead of the consumer, errors where they happened."""

from __future__ import annotations

import threading

import pytest

from marketing_app.domain.errors import ProviderUnavailable
from marketing_app.providers.read_ahead import ReadAhead


def pages(count: int, *, fail_at: int | None = None, closed: threading.Event | None = None):
    try:
        for number in range(1, count + 1):
            if number == fail_at:
                raise ProviderUnavailable("page answered 503", provider="fake")
            yield number
    finally:
        if closed is not None:
            closed.set()


def test_every_page_arrives_in_order():
    with ReadAhead(pages(50), depth=3) as ahead:
        assert list(ahead) == list(range(1, 51))
        assert list(ahead) == []  # an ended reader stays ended


def test_a_failure_reaches_the_consumer_after_the_pages_before_it():
    seen = []
    with ReadAhead(pages(10, fail_at=4)) as ahead, pytest.raises(ProviderUnavailable):
        for page in ahead:
            seen.append(page)
    assert seen == [1, 2, 3]


def test_leaving_early_stops_the_reader_and_closes_the_listing():
    closed = threading.Event()
    with ReadAhead(pages(10_000, closed=closed), depth=2) as ahead:
        assert next(ahead) == 1
    assert closed.wait(5)  # the generator's own clean-up ran, nothing keeps reading
