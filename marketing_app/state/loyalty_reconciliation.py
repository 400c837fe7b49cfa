"""Reconciliation: open discrepancies by kind, filtered and paged, resolved one at a time in a
dialog or several at once by the source of truth; "Reconcile now" as a background job."""

from __future__ import annotations

import reflex as rx

from jobs.dispatch import enqueue_job_run
from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.models import Role
from marketing_app.models.loyalty_sync import DiscrepancyKind, DiscrepancyStatus, Resolution
from marketing_app.services import job_runs
from marketing_app.services import loyalty_discrepancies as discrepancies
from marketing_app.services.loyalty_programs import require_settings
from marketing_app.state.loyalty_card import as_whole_number
from marketing_app.state.segments_common import JobView, job_view, poll_while_active, when
from marketing_app.state.session import SessionState

PAGE_SIZE = 25
RECONCILE_JOB_KIND = "loyalty_reconcile"  # services.loyalty_reconcile_jobs
ANY_KIND = "any"
KIND_LABELS = {
    DiscrepancyKind.MISSING_VISITS: "Missing visits",
    DiscrepancyKind.SYNC_LAG: "Sync lag",
    DiscrepancyKind.CONFIGURATION: "Configuration",
    DiscrepancyKind.UNKNOWN: "Unknown",
}
STATUS_CHOICES = [
    (DiscrepancyStatus.OPEN, "Open"),
    (DiscrepancyStatus.RESOLVED, "Resolved"),
    (DiscrepancyStatus.CLEARED, "Cleared"),
    ("all", "All"),
]
KIND_CHOICES = [(ANY_KIND, "Every kind"), *KIND_LABELS.items()]
SOURCE_NAMES = {"orders": "our orders and ledger", "alpineiq": "Alpine IQ"}


def _points(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _row(line: discrepancies.DiscrepancyLine) -> dict[str, str]:
    decided = discrepancies.RESOLUTION_LABELS.get(line.resolution or "", "")
    return {
        "id": str(line.id),
        "contact_id": str(line.contact_id),
        "customer": line.customer,
        "calculated": _points(line.calculated_points),
        "external": _points(line.external_points),
        "stored": _points(line.stored_balance),
        "difference": f"{line.difference:+,}",
        "percent": f"{line.difference_percent:+.1f}%",
        "over": "yes" if line.over_threshold else "",
        "kind": KIND_LABELS.get(line.kind, line.kind),
        "explanation": line.explanation,
        "status": line.status,
        "decision": f"{decided} ({_points(line.resolved_points)}) by {line.resolved_by}"
        if decided
        else "",
        "checked": when(line.checked_at),
        "has_external": "yes" if line.external_points is not None else "",
    }


class ReconciliationState(SessionState):
    loaded: bool = False
    summary: dict[str, str] = {}
    kind_cards: list[dict[str, str]] = []
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    status: str = DiscrepancyStatus.OPEN
    kind: str = ANY_KIND
    over_only: bool = False
    search: str = ""
    selected: list[str] = []
    bulk_reason: str = ""
    bulk_error: str = ""
    dialog_open: bool = False
    target: dict[str, str] = {}
    resolution: str = Resolution.ACCEPT_EXTERNAL
    resolve_points: str = ""
    resolve_reason: str = ""
    resolve_errors: dict[str, str] = {}
    job: JobView = JobView()
    watching: bool = False

    @rx.var
    def has_job(self) -> bool:
        return self.job.id != ""

    @rx.var
    def pages(self) -> int:
        return max(1, (self.total + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.rows) and all(r["id"] in self.selected for r in self.rows)

    @rx.event
    def load(self):
        self.loaded = False
        if self.page_error or not self.tenant_role:
            return
        self.page, self.selected, self.dialog_open = 1, [], False
        self.job = JobView()
        self._reload()
        running = self._read_job()
        self.loaded = True
        if running:
            return ReconciliationState.watch

    def _reload(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            summary = discrepancies.discrepancy_summary(session=session, tenant_id=tenant.id)
            lines, self.total = discrepancies.list_discrepancies(
                session=session,
                tenant_id=tenant.id,
                status=self.status,
                kind=None if self.kind == ANY_KIND else self.kind,
                over_threshold_only=self.over_only,
                search=self.search,
                limit=PAGE_SIZE,
                offset=(self.page - 1) * PAGE_SIZE,
            )
        self.rows = [_row(line) for line in lines]
        self.selected = [i for i in self.selected if i in {r["id"] for r in self.rows}]
        self.summary = {
            "open": f"{summary['open']:,}",
            "over": f"{summary['over_threshold']:,}",
            "last": when(summary["last_reconciled_at"]),
            "source": SOURCE_NAMES.get(summary["source_of_truth"], summary["source_of_truth"]),
            "threshold": f"{summary['threshold_percent']:g}%",
        }
        self.kind_cards = [
            {"kind": kind, "label": label, "count": f"{summary['by_kind'].get(kind, 0):,}"}
            for kind, label in KIND_LABELS.items()
        ]

    # --- filters and paging ----------------------------------------------------------------

    def _filtered(self) -> None:
        self.page = 1
        self._reload()

    @rx.event
    def set_status(self, value: str):
        self.status = value
        self._filtered()

    @rx.event
    def set_kind(self, value: str):
        self.kind = value
        self._filtered()

    @rx.event
    def show_kind(self, value: str):
        """A summary card's click: open discrepancies of that kind."""
        self.kind, self.status = value, DiscrepancyStatus.OPEN
        self._filtered()

    @rx.event
    def set_over_only(self, value: bool):
        self.over_only = bool(value)
        self._filtered()

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]
        self._filtered()

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)
        self._reload()

    # --- selection and bulk accept ---------------------------------------------------------

    @rx.event
    def toggle_row(self, discrepancy_id: str, checked: bool):
        rest = [i for i in self.selected if i != discrepancy_id]
        self.selected = [*rest, discrepancy_id] if checked else rest

    @rx.event
    def toggle_all(self, checked: bool):
        open_rows = [r["id"] for r in self.rows if r["status"] == DiscrepancyStatus.OPEN]
        self.selected = open_rows if checked else []

    @rx.event
    def set_bulk_reason(self, value: str):
        self.bulk_reason = value[:500]

    def _decide(self, decide) -> DomainError | None:
        """Run `decide(session, tenant_id, user)` as a marketer; the service audits it."""
        try:
            user, tenant = self._authorize(Role.MARKETER)
            with session_scope() as session:
                decide(session, tenant.id, user)
        except DomainError as exc:
            return exc
        return None

    @rx.event
    def bulk_accept(self):
        resolved: list[int] = []

        def decide(session, tenant_id, user):
            resolved.append(
                discrepancies.bulk_accept(
                    session=session,
                    tenant_id=tenant_id,
                    discrepancy_ids=[int(i) for i in self.selected],
                    actor=user.email,
                    reason=self.bulk_reason,
                    actor_user_id=user.id,
                )
            )

        error = self._decide(decide)
        if error:
            self.bulk_error = error.message
            return rx.toast.error(error.message)
        self.selected, self.bulk_reason, self.bulk_error = [], "", ""
        self._reload()
        return rx.toast.success(f"{resolved[0]} discrepancies accepted.")

    # --- one discrepancy -------------------------------------------------------------------

    @rx.event
    def open_resolve(self, discrepancy_id: str):
        row = next((r for r in self.rows if r["id"] == discrepancy_id), None)
        if row is None:
            return
        self.target, self.dialog_open, self.resolve_errors = row, True, {}
        self.resolution = (
            Resolution.ACCEPT_EXTERNAL if row["has_external"] else Resolution.KEEP_OURS
        )
        self.resolve_points, self.resolve_reason = row["stored"].replace(",", ""), ""

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_resolution(self, value: str):
        self.resolution, self.resolve_errors = value, {}

    @rx.event
    def set_resolve_points(self, value: str):
        self.resolve_points = value[:20]

    @rx.event
    def set_resolve_reason(self, value: str):
        self.resolve_reason = value[:500]

    @rx.event
    def resolve(self):
        adjusting = self.resolution == Resolution.ADJUST

        def decide(session, tenant_id, user):
            discrepancies.resolve_discrepancy(
                session=session,
                tenant_id=tenant_id,
                discrepancy_id=int(self.target.get("id", "0")),
                resolution=self.resolution,
                actor=user.email,
                reason=self.resolve_reason,
                points=as_whole_number(self.resolve_points) if adjusting else None,
                actor_user_id=user.id,
            )

        error = self._decide(decide)
        if error:
            self.resolve_errors = {error.field or "resolution": error.message}
            return rx.toast.error(error.message)
        self.dialog_open, self.resolve_errors = False, {}
        self._reload()
        return rx.toast.success(f"Discrepancy of {self.target.get('customer', '')} resolved.")

    # --- reconcile now ---------------------------------------------------------------------

    def _read_job(self) -> bool:
        """The latest reconciliation job into the progress bar; True while it runs."""
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            recent = job_runs.list_job_runs(session=session, tenant_id=tenant.id, limit=50)
        job = next((j for j in recent if j.kind == RECONCILE_JOB_KIND), None)
        if job is not None:
            self.job = job_view(job)
        return self.job.active

    def _poll(self) -> bool:
        """Follow the job; when it ends, show what it found."""
        if self._read_job():
            return True
        self._reload()
        return False

    @rx.event(background=True)
    async def watch(self):
        await poll_while_active(self, "watching", "_poll")

    @rx.event
    def reconcile_now(self):
        if self._read_job():
            return ReconciliationState.watch

        def change(session, tenant):
            require_settings(session=session, tenant_id=tenant.id)
            return job_runs.create_job_run(
                session=session,
                tenant_id=tenant.id,
                kind=RECONCILE_JOB_KIND,
                label="Reconcile loyalty balances",
                enqueue_now=True,
            )

        job, error = self._change_as(Role.MARKETER, "loyalty.reconcile", "job", change)
        if error:
            return rx.toast.error(error.message)
        enqueue_job_run(job.id)
        self.job = job_view(job)
        return ReconciliationState.watch
