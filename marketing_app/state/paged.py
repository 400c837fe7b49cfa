"""A list the database pages: search, page number, total and the reload after each change.
For the outbox, suppression and template lists (the service returns a page and a count)."""

from __future__ import annotations

import reflex as rx

PAGE_SIZE = 25


class ServerPagedMixin(rx.State, mixin=True):
    """Mixed into a SessionState subclass that implements `_refresh()` (reads the page at
    `page` for `search`, sets the rows and `total`)."""

    total: int = 0
    search: str = ""
    page: int = 1
    loaded: bool = False

    @rx.var
    def pages(self) -> int:
        return max(1, (self.total + PAGE_SIZE - 1) // PAGE_SIZE)

    def _offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def _refresh(self) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        """What else a page load starts from (forms, dialogs)."""

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.search, self.page = "", 1
        self._reset()
        self._refresh()
        self.loaded = True

    @rx.event
    def set_search(self, value: str):
        self.search, self.page = value[:200], 1
        self._refresh()

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)
        self._refresh()
