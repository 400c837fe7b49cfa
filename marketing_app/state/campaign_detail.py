"""A campaign's page: what it is, why it cannot be sent yet, the send's progress bar, the
lifecycle buttons (send, schedule, pause, resume, cancel, delete), and its report (counts,
funnel, opens and clicks over time, variants with their win probability, a winner by hand)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from jobs.dispatch import enqueue_campaign_start
from marketing_app import routes
from marketing_app.components.charts import (
    campaign_funnel_figure,
    campaign_timeline_figure,
    campaign_variants_figure,
)
from marketing_app.db import session_scope
from marketing_app.domain.errors import NotFound
from marketing_app.models import CampaignStatus, Role
from marketing_app.services import campaign_ab, campaign_lifecycle, campaigns, segments, tenants
from marketing_app.services.campaign_stats import campaign_stats
from marketing_app.services.message_claims import send_progress
from marketing_app.state.campaign_form import describe_schedule
from marketing_app.state.segments_common import money, poll_while_active, when
from marketing_app.state.session import SessionState

S = CampaignStatus
WATCHED = (S.SCHEDULED, S.SENDING)  # the page polls while the campaign is in these states
STATS_EVERY = 5  # polls between two full reloads of the report while sending
EMPTY_PROGRESS = {"total": 0, "sent": 0, "failed": 0, "skipped": 0, "queued": 0}


def percent(part: float) -> str:
    return f"{100 * part:.1f}%"


def _audience_words(session, tenant_id, audience) -> str:
    names = {s.id: s.name for s in segments.list_segments(session=session, tenant_id=tenant_id)}
    chosen = ", ".join(names.get(i, f"#{i}") for i in audience.segment_ids) or "nobody chosen yet"
    excluded = ", ".join(names.get(i, f"#{i}") for i in audience.exclude_segment_ids)
    return chosen + (f" (excluding {excluded})" if excluded else "")


def _variant_rows(report: dict[str, Any], chances: dict[str, float]) -> list[dict[str, str]]:
    return [
        {
            "key": key,
            "recipients": f"{counts['recipients']:,}",
            "opened": percent(counts["open_rate"]),
            "clicked": percent(counts["click_rate"]),
            "revenue": money(counts["revenue_cents"] / 100),
            "chance": percent(chances[key]) if key in chances else "—",
        }
        for key, counts in sorted(report["variants"].items(), key=lambda kv: kv[0] == "held")
    ]


class CampaignDetailState(SessionState):
    campaign: dict[str, str] = {}
    status: str = ""
    executed: bool = False
    problems: list[str] = []
    progress: dict[str, int] = EMPTY_PROGRESS
    totals: dict[str, Any] = {}
    timeline: list[dict[str, Any]] = []
    variant_stats: list[dict[str, Any]] = []
    variant_rows: list[dict[str, str]] = []
    ab: dict[str, str] = {}
    loaded: bool = False
    watching: bool = False
    delete_open: bool = False
    _polls: int = 0

    @rx.var
    def progress_percent(self) -> int:
        total = self.progress.get("total", 0)
        done = round(100 * (total - self.progress.get("queued", 0)) / total) if total else 0
        return min(done, 99) if self.progress.get("writing") else done  # the total grows

    @rx.var
    def progress_text(self) -> str:
        p = self.progress
        if not p.get("total"):
            return "Waiting for the send to start…" if self.status in WATCHED else "Nothing sent."
        counts = (
            f"{p['sent']:,} sent, {p['failed']:,} failed, {p['skipped']:,} skipped, "
            f"{p['queued']:,} to go, of {p['total']:,}"
        )
        return f"{counts} so far (still listing recipients)" if p.get("writing") else counts

    @rx.var
    def has_report(self) -> bool:
        return self.totals.get("recipients", 0) > 0

    @rx.var
    def headline(self) -> list[dict[str, str]]:
        t = self.totals
        if not t:
            return []
        return [
            {"label": "Recipients", "value": f"{t['recipients']:,}", "hint": "message rows"},
            {"label": "Delivered", "value": percent(t["delivery_rate"]), "hint": "of sent"},
            {"label": "Opened", "value": percent(t["open_rate"]), "hint": "human opens"},
            {"label": "Clicked", "value": percent(t["click_rate"]), "hint": "of delivered"},
            {
                "label": "Revenue",
                "value": money(t["revenue_cents"] / 100),
                "hint": f"{t['orders']:,} orders within 5 days of a click",
            },
        ]

    @rx.var
    def funnel(self) -> go.Figure:
        return campaign_funnel_figure(self.totals)

    @rx.var
    def opens_over_time(self) -> go.Figure:
        return campaign_timeline_figure(self.timeline)

    @rx.var
    def variants_chart(self) -> go.Figure:
        return campaign_variants_figure(self.variant_stats)

    @rx.var
    def can_pick_winner(self) -> bool:
        return (
            self.ab.get("enabled") == "yes"
            and self.ab.get("winner", "") == ""
            and self.status in (S.SENDING, S.PAUSED)
        )

    @rx.var
    def edit_href(self) -> str:
        return routes.campaign_edit_url(self.current_slug, self.campaign.get("id", "0"))

    def _campaign_id(self) -> int:
        return int(self.campaign.get("id", "0"))

    @rx.event
    def load(self):
        self.loaded, self.delete_open = False, False
        if self.page_error or not self.tenant_role:
            return
        try:
            self.campaign = {"id": str(int(routes.path_part(self.router.url.path, 3)))}
            active = self._refresh()
        except (NotFound, ValueError):
            self.page_error = "not_found"
            return
        self.loaded = True
        if active:
            return CampaignDetailState.watch

    def _refresh(self) -> bool:
        """Reload everything; True while the send is due or running."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found = campaigns.get_campaign(
                session=session, tenant_id=tenant.id, campaign_id=self._campaign_id()
            )
            zone = tenants.get_tenant(session=session, tenant_id=tenant.id).time_zone
            self._describe(session, tenant.id, found, zone)
            self.problems = (
                campaign_lifecycle.readiness_problems(
                    session=session, tenant_id=tenant.id, campaign=found
                )
                if found.status == S.DRAFT
                else []
            )
            self.progress = send_progress(
                session=session, tenant_id=tenant.id, campaign_id=found.id
            )
            report = campaign_stats(session=session, tenant_id=tenant.id, campaign_id=found.id)
            enabled = bool((found.ab_test or {}).get("enabled"))
            chances = (
                campaign_ab.win_probabilities(session=session, campaign=found) if enabled else {}
            )
        self.totals, self.timeline = report["totals"], report["timeline"]
        self.variant_stats = [{"key": k, **v} for k, v in report["variants"].items() if k != "held"]
        self.variant_rows = _variant_rows(report, chances)
        return self.status in WATCHED

    def _describe(self, session, tenant_id, found, zone: str) -> None:
        content, audience, schedule, ab = campaigns.specs(found)
        first = content.variants[0]
        sender = f"{found.from_name} <{found.from_email}>" if found.from_name else found.from_email
        self.status, self.executed = found.status, found.executed
        self.campaign = {
            "id": str(found.id),
            "name": found.name,
            "subject": first.subject or "(no subject yet)",
            "sender": sender or "(no from address yet)",
            "audience": _audience_words(session, tenant_id, audience),
            "schedule": describe_schedule(schedule, zone),
            "schedule_mode": schedule.mode,
            "scheduled_for": when(found.scheduled_for, ""),
            "started": when(found.started_at, ""),
            "finished": when(found.finished_at, ""),
            "variants": str(len(content.variants)),
        }
        self.ab = {
            "enabled": "yes" if ab.enabled else "",
            "metric": ab.metric,
            "test_percent": str(ab.test_percent),
            "wait_hours": str(ab.wait_hours),
            "winner": ab.winner or "",
            "decided_by": {"metric": "by the metric", "marketer": "by hand"}.get(
                ab.decided_by or "", ""
            ),
        }

    def _poll(self) -> bool:
        """Every poll: the progress bar; the whole report when the state changed or every
        few polls."""
        self._polls += 1
        before = self.status
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            found = campaigns.get_campaign(
                session=session, tenant_id=tenant.id, campaign_id=self._campaign_id()
            )
            self.progress = send_progress(
                session=session, tenant_id=tenant.id, campaign_id=found.id
            )
            status = found.status
        if status != before or self._polls % STATS_EVERY == 0 or status not in WATCHED:
            return self._refresh()
        return True

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_poll")

    # --- actions -----------------------------------------------------------------------------

    def _act(self, action: str, move):
        found, error = self._change_as(
            Role.MARKETER,
            f"campaign.{action}",
            "campaign",
            lambda session, tenant: move(session, tenant.id, self._campaign_id()),
        )
        if error:
            return rx.toast.error(error.message)
        if campaign_lifecycle.starts_now(found):
            enqueue_campaign_start(found.id)
        self._refresh()
        return CampaignDetailState.watch

    @rx.event
    def send_now(self):
        def move(session, tenant_id, campaign_id):
            return campaign_lifecycle.send_campaign_now(
                session=session, tenant_id=tenant_id, campaign_id=campaign_id
            )

        return self._act("send", move)

    @rx.event
    def schedule(self):
        return self._act("schedule", _lifecycle("schedule"))

    @rx.event
    def unschedule(self):
        return self._act("unschedule", _lifecycle("unschedule"))

    @rx.event
    def pause(self):
        return self._act("pause", _lifecycle("pause"))

    @rx.event
    def resume(self):
        return self._act("resume", _lifecycle("resume"))

    @rx.event
    def cancel(self):
        return self._act("cancel", _lifecycle("cancel"))

    @rx.event
    def choose_winner(self, key: str):
        def move(session, tenant_id, campaign_id):
            campaign_ab.choose_winner(
                session=session, tenant_id=tenant_id, campaign_id=campaign_id, variant=key
            )
            return campaign_id

        return self._act("winner", move)

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = bool(value)

    @rx.event
    def delete(self):
        def remove(session, tenant):
            campaigns.delete_campaign(
                session=session, tenant_id=tenant.id, campaign_id=self._campaign_id()
            )
            return self._campaign_id()

        _, error = self._change_as(Role.MARKETER, "campaign.delete", "campaign", remove)
        self.delete_open = False
        if error:
            return rx.toast.error(error.message)
        return [
            rx.toast.success("Campaign deleted."),
            rx.redirect(routes.campaigns_url(self.current_slug)),
        ]


def _lifecycle(name: str):
    move = getattr(campaign_lifecycle, f"{name}_campaign")
    return lambda session, tenant_id, campaign_id: move(
        session=session, tenant_id=tenant_id, campaign_id=campaign_id
    )
