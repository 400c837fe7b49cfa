"""The campaign builder (new and edit of a draft): name and sender, audience with a live count,
content per variant in the shared email editor, A/B setup, schedule, save."""

from __future__ import annotations

import asyncio
import logging
import uuid

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.campaigns import Audience, Schedule
from marketing_app.domain.errors import DomainError, NotFound
from marketing_app.models import CampaignStatus, Role
from marketing_app.services import campaigns, email_templates, tenants
from marketing_app.services.campaign_audience import count_audience
from marketing_app.state import campaign_form as form
from marketing_app.state.email_editor import EmailEditorMixin
from marketing_app.state.segments_common import Choice, segment_choices
from marketing_app.state.session import FormPageMixin, SessionState

log = logging.getLogger(__name__)
BUILTIN_PREFIX, OWN_PREFIX = "builtin:", "template:"
DETAIL_LIMITS = {"name": 200, "from_name": 120, "from_email": 320, "reply_to": 320, "topic": 60}
AUDIENCE_REASONS = [
    ("excluded", "in an excluded segment"),
    ("no_address", "no email address"),
    ("unconsented", "no email consent"),
    ("suppressed", "suppressed"),
    ("unsubscribed", "unsubscribed from this topic"),
]


def _count(tenant_id: uuid.UUID, audience: Audience, topic: str) -> dict[str, int]:
    with session_scope() as session:
        found = count_audience(session=session, tenant_id=tenant_id, audience=audience, topic=topic)
    return dict(found.__dict__)


def _template_choices(session, tenant_id: uuid.UUID) -> list[Choice]:
    own, _ = email_templates.list_templates(session=session, tenant_id=tenant_id, limit=100)
    return [Choice(f"{OWN_PREFIX}{t.id}", t.name) for t in own] + [
        Choice(f"{BUILTIN_PREFIX}{b.key}", f"Built-in: {b.name}")
        for b in email_templates.list_builtin_templates()
    ]


class CampaignBuilderState(FormPageMixin, EmailEditorMixin, SessionState):
    campaign_id: int = 0  # 0 while creating
    name: str = ""
    from_name: str = ""
    from_email: str = ""
    reply_to: str = ""
    topic: str = "marketing"
    field_errors: dict[str, str] = {}
    save_error: str = ""
    time_zone: str = "UTC"
    segments: list[Choice] = []
    audience_ids: list[str] = []
    exclude_ids: list[str] = []
    counts: dict[str, int] = {}
    count_busy: bool = False
    template_choices: list[Choice] = []
    template_pick: str = ""
    template_id: int = 0  # the tenant template the content came from
    variants: list[form.VariantForm] = [form.VariantForm()]
    active: int = 0
    ab_enabled: bool = False
    test_percent: str = "20"
    metric: str = "open"
    wait_hours: str = "4"
    schedule_mode: str = "now"
    send_at: str = ""
    send_date: str = ""
    local_time: str = "09:00"
    optimize: bool = False
    _count_gen: int = 0

    @rx.var
    def back_href(self) -> str:
        if self.campaign_id:
            return routes.campaign_url(self.current_slug, self.campaign_id)
        return routes.campaigns_url(self.current_slug)

    @rx.var
    def eligible_text(self) -> str:
        eligible = self.counts.get("eligible", 0)
        return f"{eligible:,} will receive it"

    @rx.var
    def left_out(self) -> list[str]:
        return [
            f"{self.counts[key]:,} {words}"
            for key, words in AUDIENCE_REASONS
            if self.counts.get(key, 0)
        ]

    @rx.var
    def variant_keys(self) -> list[str]:
        return [v.key for v in self.variants]

    @rx.var
    def active_key(self) -> str:
        return self.variants[self.active].key if self.active < len(self.variants) else "A"

    def _test_sender(self) -> tuple[str, str]:
        variant_name = self.variants[self.active].from_name if self.ab_enabled else ""
        return self.from_email, variant_name or self.from_name

    # --- loading -----------------------------------------------------------------------------

    @rx.event
    def load(self):
        if self.loaded and self.form_kept():
            return CampaignBuilderState.refresh_count  # a reconnect: keep the edits
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        part = routes.path_part(self.router.url.path, 3)
        self.field_errors, self.save_error, self.template_pick = {}, "", ""
        self.customer_query, self.customer_results, self.test_error = "", [], ""
        self.preview_contact_id, self.preview_contact = 0, ""
        try:
            campaign_id = 0 if part == "new" else int(part)
            editable = self._load(campaign_id)
        except (NotFound, ValueError):
            self.page_error = "not_found"
            return
        if not editable:
            return [
                rx.toast.info("Only a draft can be edited; unschedule it first."),
                rx.redirect(routes.campaign_url(self.current_slug, campaign_id)),
            ]
        self.loaded = True
        self.hold_form()
        return CampaignBuilderState.refresh_count

    def _load(self, campaign_id: int) -> bool:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            self.time_zone = tenants.get_tenant(session=session, tenant_id=tenant.id).time_zone
            self.segments = segment_choices(session, tenant.id)
            self.template_choices = _template_choices(session, tenant.id)
            if not campaign_id:
                self._blank()
                return True
            campaign = campaigns.get_campaign(
                session=session, tenant_id=tenant.id, campaign_id=campaign_id
            )
            if campaign.status != CampaignStatus.DRAFT:
                return False
            self._fill(campaign)
            return True

    def _blank(self) -> None:
        self.campaign_id, self.name, self.topic = 0, "", "marketing"
        self.from_name, self.from_email, self.reply_to = "", "", ""
        self.audience_ids, self.exclude_ids, self.template_id = [], [], 0
        self.variants, self.active = [form.VariantForm()], 0
        self.ab_enabled, self.test_percent, self.metric, self.wait_hours = False, "20", "open", "4"
        self._set_schedule(form.schedule_to_form(Schedule(), self.time_zone))
        self._load_fields("", "", "")

    def _fill(self, campaign) -> None:
        content, audience, schedule, ab = campaigns.specs(campaign)
        self.campaign_id, self.name, self.topic = campaign.id, campaign.name, campaign.topic
        self.from_name, self.from_email = campaign.from_name, campaign.from_email
        self.reply_to, self.template_id = campaign.reply_to, campaign.template_id or 0
        self.audience_ids = [str(i) for i in audience.segment_ids]
        self.exclude_ids = [str(i) for i in audience.exclude_segment_ids]
        self.variants, self.active = form.variants_from_content(content), 0
        for name, value in form.ab_to_form(ab).items():
            setattr(self, name, value)
        self._set_schedule(form.schedule_to_form(schedule, self.time_zone))
        first = self.variants[0]
        self._load_fields(first.subject, first.preheader, first.html)

    def _set_schedule(self, values: dict) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    # --- the live count ----------------------------------------------------------------------

    @rx.event(background=True)
    async def refresh_count(self):
        async with self:
            self._count_gen += 1
            generation = self._count_gen
            try:
                _, tenant = self._authorize(Role.VIEWER)
                audience = Audience(
                    segment_ids=[int(i) for i in self.audience_ids],
                    exclude_segment_ids=[int(i) for i in self.exclude_ids],
                )
            except (DomainError, ValueError):
                return
            topic, self.count_busy = self.topic or "marketing", True
        try:
            counts = await asyncio.to_thread(_count, tenant.id, audience, topic)
        except Exception:  # a count must never take the page down
            log.exception("audience count failed")
            counts = {}
        async with self:
            if generation == self._count_gen:
                self.counts, self.count_busy = counts, False

    @rx.event
    def set_audience(self, values: list[str]):
        self.audience_ids = [str(v) for v in values][:50]
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "audience"}
        return CampaignBuilderState.refresh_count

    @rx.event
    def set_exclusions(self, values: list[str]):
        self.exclude_ids = [str(v) for v in values][:50]
        return CampaignBuilderState.refresh_count

    # --- details -----------------------------------------------------------------------------

    @rx.event
    def set_detail(self, name: str, value: str):
        """Name, sender, reply-to and topic; a new topic changes who may be reached."""
        if name not in DETAIL_LIMITS:
            return
        setattr(self, name, value[: DETAIL_LIMITS[name]])
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != name}
        if name == "topic":
            return CampaignBuilderState.refresh_count

    # --- content and variants ----------------------------------------------------------------

    def _store_active(self) -> None:
        """The editor's fields back into the variant being edited."""
        variant = self.variants[self.active]
        variant.subject, variant.preheader, variant.html = self.subject, self.preheader, self.html

    @rx.event
    def pick_template(self, value: str):
        """Copy a built-in or saved template into the variant being edited."""
        self.template_pick = value
        try:
            if value.startswith(BUILTIN_PREFIX):
                chosen = email_templates.get_builtin_template(value.removeprefix(BUILTIN_PREFIX))
                template_id = 0
            else:
                _, tenant = self._authorize(Role.VIEWER)
                template_id = int(value.removeprefix(OWN_PREFIX))
                with session_scope() as session:
                    chosen = email_templates.get_template(
                        session=session, tenant_id=tenant.id, template_id=template_id
                    )
        except (DomainError, ValueError):
            return rx.toast.error("That template is not available.")
        if self.active == 0:
            self.template_id = template_id
        self._load_fields(chosen.subject, chosen.preheader, chosen.html)
        self._store_active()

    @rx.event
    def select_variant(self, key: str):
        index = next((i for i, v in enumerate(self.variants) if v.key == key), None)
        if index is None or index == self.active:
            return
        self._store_active()
        self.active = index
        chosen = self.variants[index]
        self._load_fields(chosen.subject, chosen.preheader, chosen.html)

    @rx.event
    def add_variant(self):
        key = form.next_variant_key(self.variants)
        if key is None:
            return rx.toast.error("An A/B test has at most four variants.")
        self._store_active()
        copy = self.variants[self.active]
        self.variants.append(
            form.VariantForm(key, copy.subject, copy.preheader, copy.html, copy.from_name)
        )
        self.active = len(self.variants) - 1

    @rx.event
    def remove_variant(self, key: str):
        if len(self.variants) <= 2 or key == "A":
            return rx.toast.error("Keep variant A and at least one other.")
        self._store_active()
        self.variants = [v for v in self.variants if v.key != key]
        self.active = 0
        first = self.variants[0]
        self._load_fields(first.subject, first.preheader, first.html)

    @rx.event
    def set_variant_from_name(self, value: str):
        self.variants[self.active].from_name = value[:120]

    @rx.event
    def set_variant_delay(self, value: str):
        self.variants[self.active].send_delay_hours = value[:3]

    @rx.event
    def set_ab_enabled(self, value: bool):
        self.ab_enabled = bool(value)
        if self.ab_enabled and len(self.variants) < 2:
            return CampaignBuilderState.add_variant
        if not self.ab_enabled and self.active != 0:
            self._store_active()
            self.active = 0
            first = self.variants[0]
            self._load_fields(first.subject, first.preheader, first.html)

    @rx.event
    def set_test_percent(self, value: str):
        self.test_percent = value[:3]

    @rx.event
    def set_metric(self, value: str):
        self.metric = value if value in ("open", "click", "revenue") else "open"

    @rx.event
    def set_wait_hours(self, value: str):
        self.wait_hours = value[:4]

    # --- schedule ----------------------------------------------------------------------------

    @rx.event
    def set_schedule_mode(self, value: str):
        self.schedule_mode = value if value in ("now", "at", "local") else "now"
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "schedule"}

    @rx.event
    def set_send_at(self, value: str):
        self.send_at = value[:20]

    @rx.event
    def set_send_date(self, value: str):
        self.send_date = value[:10]

    @rx.event
    def set_local_time(self, value: str):
        self.local_time = value[:5]

    @rx.event
    def set_optimize(self, value: bool):
        self.optimize = bool(value)

    # --- saving ------------------------------------------------------------------------------

    def _changes(self) -> dict:
        return {
            "name": self.name,
            "topic": self.topic or "marketing",
            "from_name": self.from_name,
            "from_email": self.from_email,
            "reply_to": self.reply_to,
            "audience": {
                "segment_ids": [int(i) for i in self.audience_ids],
                "exclude_segment_ids": [int(i) for i in self.exclude_ids],
            },
            "content": form.content_from_variants(list(self.variants), self.ab_enabled),
            "ab_test": form.ab_from_form(
                self.ab_enabled, self.test_percent, self.metric, self.wait_hours
            ),
            "schedule": form.schedule_from_form(
                self.schedule_mode,
                self.send_at,
                self.send_date,
                self.local_time,
                self.optimize,
                self.time_zone,
            ),
        }

    @rx.event
    def save(self):
        self.field_errors, self.save_error = {}, ""
        self._store_active()
        broken = form.broken_content(list(self.variants), self.ab_enabled)
        if broken:
            self.save_error = f"Fix the template first: {broken}"
            return rx.toast.error(self.save_error)

        def change(session, tenant):
            changes = self._changes()
            if self.template_id:
                changes["template_id"] = self.template_id
            if self.campaign_id:
                return campaigns.update_campaign(
                    session=session, tenant_id=tenant.id, campaign_id=self.campaign_id, **changes
                )
            return campaigns.create_campaign(
                session=session, tenant_id=tenant.id, created_by=self.user_email, **changes
            )

        action = "campaign.update" if self.campaign_id else "campaign.create"
        campaign, error = self._change_as(Role.MARKETER, action, "campaign", change)
        if error:
            self.field_errors = {error.field or "save": error.message}
            self.save_error = error.message
            return rx.toast.error(error.message)
        return rx.redirect(routes.campaign_url(self.current_slug, campaign.id))
