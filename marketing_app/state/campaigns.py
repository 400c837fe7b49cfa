"""The Campaigns page: every campaign with its status and headline rates, search, a status
filter and paging."""

from __future__ import annotations

import dataclasses

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.models import CampaignStatus, Role
from marketing_app.services import campaigns
from marketing_app.services.campaign_stats import Counts, headline_counts
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState

PAGE_SIZE = 25
ALL_STATUSES = "all"


@dataclasses.dataclass
class CampaignRow:
    id: str = ""
    name: str = ""
    subject: str = ""
    status: str = ""
    when: str = ""
    recipients: str = ""
    opened: str = ""
    clicked: str = ""
    href: str = ""


def _when(campaign) -> str:
    if campaign.finished_at:
        return "sent " + when(campaign.finished_at)
    if campaign.started_at:
        return "started " + when(campaign.started_at)
    if campaign.scheduled_for:
        return "for " + when(campaign.scheduled_for)
    return "created " + when(campaign.created_at)


def _row(campaign, counts: Counts | None, slug: str) -> CampaignRow:
    content, _, _, _ = campaigns.specs(campaign)
    sent = counts is not None and counts.sent > 0
    return CampaignRow(
        id=str(campaign.id),
        name=campaign.name,
        subject=content.variants[0].subject,
        status=campaign.status,
        when=_when(campaign),
        recipients=f"{counts.recipients:,}" if counts else "—",
        opened=f"{100 * counts.rate(counts.opened):.1f}%" if sent else "—",
        clicked=f"{100 * counts.rate(counts.clicked):.1f}%" if sent else "—",
        href=routes.campaign_url(slug, campaign.id),
    )


class CampaignsState(SessionState):
    rows: list[CampaignRow] = []
    search: str = ""
    status_filter: str = ALL_STATUSES
    page: int = 1
    loaded: bool = False

    @rx.var
    def matching_rows(self) -> list[CampaignRow]:
        text = self.search.strip().lower()
        return [
            r
            for r in self.rows
            if (self.status_filter == ALL_STATUSES or r.status == self.status_filter)
            and (not text or text in r.name.lower() or text in r.subject.lower())
        ]

    @rx.var
    def pages(self) -> int:
        return max(1, (len(self.matching_rows) + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.var
    def page_rows(self) -> list[CampaignRow]:
        start = (min(self.page, self.pages) - 1) * PAGE_SIZE
        return self.matching_rows[start : start + PAGE_SIZE]

    @rx.var
    def matching_count(self) -> int:
        return len(self.matching_rows)

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.search, self.status_filter, self.page = "", ALL_STATUSES, 1
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found = campaigns.list_campaigns(session=session, tenant_id=tenant.id)
            counts = headline_counts(
                session=session, tenant_id=tenant.id, campaign_ids=[c.id for c in found]
            )
            self.rows = [_row(c, counts.get(c.id), self.current_slug) for c in found]
        self.loaded = True

    @rx.event
    def set_search(self, value: str):
        self.search, self.page = value[:200], 1

    @rx.event
    def set_status_filter(self, value: str):
        allowed = (ALL_STATUSES, *CampaignStatus.ALL)
        self.status_filter, self.page = (value if value in allowed else ALL_STATUSES), 1

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)
