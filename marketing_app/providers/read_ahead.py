"""Reading a provider's pages ahead of the code that stores them.

`ReadAhead` runs a page iterator (a client's `iter_*_pages`) on its own thread, at most `depth`
pages ahead of the consumer, so the next pages travel while the current one is being stored:
a sync then waits for the network only when storing is faster than the provider. An exception
of the iterator (a `ProviderError`) reaches the consumer at the page where it happened.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, Self, TypeVar

T = TypeVar("T")
_END = object()
PUT_WAIT_SECONDS = 0.1  # how often a full queue checks whether the consumer left


class ReadAhead(Generic[T]):
    """Iterate `source` on a thread, `depth` items ahead; use as a context manager."""

    def __init__(self, source: Iterable[T], *, depth: int = 2, name: str = "read-ahead") -> None:
        self._source = iter(source)
        self._items: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._pull, name=name, daemon=True)
        self._thread.start()

    def _pull(self) -> None:
        try:
            for item in self._source:
                if not self._offer((item, None)):
                    return
            self._offer((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._offer((None, exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:  # a generator's own pools and clients wind down here
                close()

    def _offer(self, entry: tuple) -> bool:
        while not self._stopped.is_set():
            try:
                self._items.put(entry, timeout=PUT_WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        item, error = self._items.get()
        if error is not None:
            raise error
        if item is _END:
            self._items.put((_END, None))  # later calls end too
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop reading (pages not consumed are dropped) and wait for the thread."""
        self._stopped.set()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
