"""The loyalty card on a customer's page: points, tier and progress, history, Alpine IQ's
balance and any open discrepancy; redeeming for a discount code and adjusting points."""

from __future__ import annotations

import uuid

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError, NotFound
from marketing_app.models import Role
from marketing_app.services import loyalty_programs as programs
from marketing_app.services import loyalty_reports as reports
from marketing_app.services.loyalty_adjustments import adjust_points
from marketing_app.services.loyalty_redemptions import redeem_points, redeem_tier_reward
from marketing_app.state.segments_common import when
from marketing_app.state.session import SessionState

HISTORY_PAGE = 10  # ledger entries per page of the card
POINTS = "__points__"  # the redeem choice "N points for an amount off" (tiers are names)
SOURCE_NAMES = {"orders": "our orders and ledger", "alpineiq": "Alpine IQ"}


def as_whole_number(text: str) -> int | str:
    """The typed number as an int, or the text itself for the service to refuse by name."""
    stripped = text.strip().replace(",", "")
    digits = stripped[1:] if stripped[:1] in "+-" else stripped
    return int(stripped) if digits.isdigit() else text


def _summary(card: reports.AccountSummary, settings: programs.LoyaltySettings) -> dict:
    to_next = (
        f"{card.points_to_next_tier:,} points to {card.next_tier}"
        if card.next_tier
        else ("Top tier reached" if settings.tiers else "The program has no tiers")
    )
    return {
        "balance": f"{card.balance:,}",
        "value": f"${card.value_cents / 100:,.2f}",
        "lifetime": f"{card.lifetime_earned:,}",
        "tier": card.tier or "No tier yet",
        "to_next": to_next,
        "expires": when(card.expires_at, "never"),
        "last_activity": when(card.last_activity_at),
        "source_of_truth": SOURCE_NAMES.get(settings.source_of_truth, settings.source_of_truth),
    }


def _rewards(settings: programs.LoyaltySettings) -> list[dict[str, str]]:
    choices = [
        {
            "value": t.name,
            "label": f"{t.name} reward: {t.reward.describe()} for {t.reward.points:,} points",
        }
        for t in settings.tiers
        if t.reward is not None
    ]
    return [*choices, {"value": POINTS, "label": "Points for an amount off"}]


class LoyaltyCardState(SessionState):
    card_loaded: bool = False
    has_program: bool = False
    member: bool = False
    contact_id: int = 0
    card: dict[str, str] = {}
    progress: int = 0
    history: list[dict[str, str]] = []
    history_page: int = 1
    history_total: int = 0
    external: dict[str, str] = {}  # Alpine IQ's balance, {} before any sync
    discrepancy: dict[str, str] = {}  # the open one, {} when none
    rewards: list[dict[str, str]] = []
    redeem_choice: str = POINTS
    redeem_points: str = ""
    issued_code: str = ""
    issued_text: str = ""
    adjust_points: str = ""
    adjust_reason: str = ""
    errors: dict[str, str] = {}  # "redeem_<field>" / "adjust_<field>": the service's message
    _redeem_key: str = ""  # a double click replays one redemption instead of making two
    _adjust_key: str = ""

    @rx.var
    def history_pages(self) -> int:
        return max(1, (self.history_total + HISTORY_PAGE - 1) // HISTORY_PAGE)

    @rx.event
    def load(self):
        self.card_loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.history_page, self.errors, self.issued_code = 1, {}, ""
        self.redeem_points, self.adjust_points, self.adjust_reason = "", "", ""
        self._redeem_key, self._adjust_key = uuid.uuid4().hex, uuid.uuid4().hex
        try:
            self.contact_id = int(routes.path_part(self.router.url.path, 3) or "0")
            self._reload()
        except (NotFound, ValueError):
            return  # the customer page shows its own 404
        self.card_loaded = True

    def _reload(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            program = programs.get_program(session=session, tenant_id=tenant.id)
            self.has_program = program is not None
            if program is None:
                return
            settings = programs.LoyaltySettings.model_validate(program.settings)
            self._read_card(session, tenant.id, settings)
            self._read_sources(session, tenant.id)
        self.rewards = _rewards(settings)
        if self.redeem_choice not in {r["value"] for r in self.rewards}:
            self.redeem_choice = POINTS

    def _read_card(self, session, tenant_id, settings) -> None:
        card = reports.account_summary(
            session=session,
            tenant_id=tenant_id,
            contact_id=self.contact_id,
            limit=HISTORY_PAGE,
            offset=(self.history_page - 1) * HISTORY_PAGE,
        )
        self.member, self.progress = card.member, card.progress_percent
        self.card, self.history_total = _summary(card, settings), card.history_total
        self.history = [
            {
                "when": when(line.created_at),
                "kind": line.kind,
                "points": f"{line.points:+,}",
                "reason": line.reason or line.source.replace("_", " "),
            }
            for line in card.history
        ]

    def _read_sources(self, session, tenant_id) -> None:
        mine = {"session": session, "tenant_id": tenant_id, "contact_id": self.contact_id}
        theirs = reports.external_balance(**mine)
        self.external = (
            {
                "points": f"{theirs.points:,}",
                "synced": when(theirs.synced_at),
                "id": theirs.external_id,
            }
            if theirs
            else {}
        )
        found = reports.open_discrepancy(**mine)
        self.discrepancy = (
            {
                "calculated": f"{found.calculated_points:,}",
                "external": "—" if found.external_points is None else f"{found.external_points:,}",
                "stored": f"{found.stored_balance:,}",
                "difference": f"{found.difference:+,} ({found.difference_percent:+.1f}%)",
                "kind": found.kind.replace("_", " "),
                "explanation": found.explanation,
                "checked": when(found.checked_at),
            }
            if found
            else {}
        )

    @rx.event
    def history_by(self, step: int):
        self.history_page = min(max(1, self.history_page + step), self.history_pages)
        self._reload()

    @rx.event
    def set_redeem_choice(self, value: str):
        self.redeem_choice, self.errors = value, {}

    @rx.event
    def set_redeem_points(self, value: str):
        self.redeem_points = value[:20]

    @rx.event
    def set_adjust_points(self, value: str):
        self.adjust_points = value[:20]

    @rx.event
    def set_adjust_reason(self, value: str):
        self.adjust_reason = value[:500]

    def _failed(self, error: DomainError, form: str):
        self.errors = {f"{form}_{error.field or 'points'}": error.message}
        return rx.toast.error(error.message)

    @rx.event
    def redeem(self):
        """Spend points for a discount code: a tier's reward, or N points at their value."""
        results: list = []

        def change(session, tenant):
            common = {
                "session": session,
                "tenant_id": tenant.id,
                "contact_id": self.contact_id,
                "idempotency_key": self._redeem_key,
            }
            if self.redeem_choice == POINTS:
                points = as_whole_number(self.redeem_points)
                results.append(redeem_points(**common, points=points))
            else:
                results.append(redeem_tier_reward(**common, tier=self.redeem_choice))
            return results[0].redemption

        redemption, error = self._change_as(Role.MARKETER, "loyalty.redeem", "redemption", change)
        if error:
            return self._failed(error, "redeem")
        offer = results[0]
        self.issued_code = redemption.code
        self.issued_text = f"{redemption.points:,} points redeemed; balance {offer.balance:,}."
        self.errors, self.redeem_points, self._redeem_key = {}, "", uuid.uuid4().hex
        self._reload()
        return rx.toast.success(f"Discount code {redemption.code} issued.")

    @rx.event
    def adjust(self):
        """Add (or, with a minus sign, remove) points, with the reason on the ledger."""

        def change(session, tenant):
            adjust_points(
                session=session,
                tenant_id=tenant.id,
                contact_id=self.contact_id,
                points=as_whole_number(self.adjust_points),
                adjustment_id=self._adjust_key,
                reason=self.adjust_reason,
            )
            return self.contact_id

        _, error = self._change_as(Role.MARKETER, "loyalty.adjust", "contact", change)
        if error:
            return self._failed(error, "adjust")
        self.errors, self.adjust_points, self.adjust_reason = {}, "", ""
        self._adjust_key = uuid.uuid4().hex
        self._reload()
        return rx.toast.success("Points adjusted.")
