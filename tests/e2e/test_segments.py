"""Segments pages: the builder with its live count, presets, RFM, static lists, roles and the
tenant boundary, driven in the browser against the demo data (scale 0.05)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from marketing_app.db import session_scope
from marketing_app.models import Order
from marketing_app.models.segments import SegmentKind
from marketing_app.services import profiles, segments
from marketing_app.services.event_processing import process_pending_events
from marketing_app.services.ingestion import ingest_messages
from marketing_app.services.segment_presets import PRESETS, preset_definition
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import (
    drop_and_wait_for_reconnect,
    drop_socket_on_demand,
    login_and_wait,
    screenshot,
)

pytestmark = pytest.mark.browser

LEAF = "carolina-leaf"
OPENER_EMAIL = "lapsed.opener@leaf-e2e.example"
SLOW = 30_000  # ms: a count, a page load or a job on two busy cores
JOB = 90_000
SPENT = {
    "kind": "orders",
    "metric": "total_spent",
    "op": "gt",
    "value": 150,
    "within_days": 90,
}
NO_ORDER = {"kind": "no_order_in", "days": 60}
OPENED = {"kind": "engagement", "action": "opened", "channel": "email", "within_days": 30}


def _definition(*conditions: dict) -> dict:
    group = {"kind": "group", "op": "and", "negate": False, "children": list(conditions)}
    return {"root": {"kind": "group", "op": "and", "negate": False, "children": [group]}}


def _count_text(slug: str, definition: dict) -> str:
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=slug)
        found = segments.estimate(session=session, tenant_id=tenant.id, definition=definition)
    return f"{found.count:,} of {found.total_profiles:,} customers"


@pytest.fixture(scope="module")
def lapsed_opener(app_server) -> int:
    """A Carolina Leaf customer who certainly matches the key scenario: $900 spent 75 days
    ago, nothing since, and an email opened 5 days ago. Returns the profile id."""
    now = datetime.now(UTC)
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        ingest_messages(
            session=session,
            tenant_id=tenant.id,
            messages=[
                {
                    "type": "identify",
                    "userId": "e2e-lapsed-1",
                    "messageId": "e2e-segments-1",
                    "traits": {"email": OPENER_EMAIL, "firstName": "Lapsed", "lastName": "Opener"},
                    "timestamp": (now - timedelta(days=100)).isoformat(),
                },
                {
                    "type": "track",
                    "userId": "e2e-lapsed-1",
                    "event": "Email Opened",
                    "messageId": "e2e-segments-2",
                    "properties": {"campaign_id": "e2e-campaign"},
                    "timestamp": (now - timedelta(days=5)).isoformat(),
                },
            ],
        )
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        while process_pending_events(session=session, tenant_id=tenant.id):
            session.commit()
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        [contact], _ = profiles.search_profiles(
            session=session, tenant_id=tenant.id, search=OPENER_EMAIL
        )
        placed = now - timedelta(days=75)
        session.add(
            Order(
                tenant_id=tenant.id,
                contact_id=contact.id,
                source="pos",
                external_id="e2e-lapsed-order",
                total_cents=90_000,
                placed_at=placed,
            )
        )
        contact.order_count += 1
        contact.total_spent_cents += 90_000
        contact.last_order_at = placed
        session.add(contact)
        return contact.id


def _add_condition(page: Page, group: int, kind_label: str) -> None:
    page.click(f"#add-condition-{group}")
    page.get_by_role("menuitem", name=kind_label).click()


def test_unsaved_segment_edits_survive_a_dropped_connection(page):
    """Reflex runs the page's on_load again on every reconnect: the builder must keep what
    the marketer typed, and go on counting it, rather than re-read the form."""
    relays = drop_socket_on_demand(page)
    login_and_wait(page, "marketer@leaf.example.com")
    page.click("#nav-segments")
    page.click("#new-segment")
    count = page.locator("#live-count")
    expect(count).to_have_text(_count_text(LEAF, {}), timeout=SLOW)
    page.fill("#segment-name", "Typed before the blip")
    _add_condition(page, 0, "Order totals")
    page.fill("#c-0-0-value", "150")
    expect(count).to_have_text(_count_text(LEAF, _definition(SPENT)), timeout=SLOW)

    drop_and_wait_for_reconnect(page, relays)
    page.fill("#c-0-0-value", "100")  # an edit through the new connection
    changed = _count_text(LEAF, _definition({**SPENT, "value": 100}))
    expect(count).to_have_text(changed, timeout=SLOW)
    expect(page.locator("#segment-name")).to_have_value("Typed before the blip")
    expect(page.locator(".condition-row")).to_have_count(1)

    page.click("#nav-segments")  # leaving the page, then opening it again, starts afresh
    page.click("#new-segment")
    expect(page.locator("#segment-name")).to_have_value("", timeout=SLOW)
    expect(page.locator(".condition-row")).to_have_count(0)


def test_marketer_builds_a_segment_watching_the_live_count_then_sees_its_members(
    page, lapsed_opener
):
    login_and_wait(page, "marketer@leaf.example.com")
    page.click("#nav-segments")
    expect(page).to_have_url(re.compile(f"/t/{LEAF}/segments"))
    page.click("#new-segment")
    expect(page).to_have_url(re.compile("/segments/new"))
    count = page.locator("#live-count")
    expect(count).to_have_text(_count_text(LEAF, {}), timeout=SLOW)
    page.fill("#segment-name", "Lapsed big spenders who still read")

    _add_condition(page, 0, "Order totals")
    page.fill("#c-0-0-value", "150")
    expect(count).to_have_text(_count_text(LEAF, _definition(SPENT)), timeout=SLOW)
    _add_condition(page, 0, "No order in N days")
    expect(count).to_have_text(_count_text(LEAF, _definition(SPENT, NO_ORDER)), timeout=SLOW)
    _add_condition(page, 0, "Email or SMS engagement")
    final = _count_text(LEAF, _definition(SPENT, NO_ORDER, OPENED))
    expect(count).to_have_text(final, timeout=SLOW)
    expect(page.locator("#estimate-sample")).to_contain_text(OPENER_EMAIL)
    screenshot(page, "segment-builder")

    page.click("#save-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"), timeout=SLOW)
    expect(page.locator("#segment-title")).to_have_text("Lapsed big spenders who still read")
    expect(page.locator(".job-progress")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#member-count")).to_have_text(final.split(" of ")[0], timeout=SLOW)
    members = page.locator("#members-table")
    expect(members).to_contain_text(OPENER_EMAIL)
    summary = page.locator("#definition-summary li")
    expect(summary).to_have_text(
        [
            "spent more than $150 in the last 90 days",
            "no order in the last 60 days",
            "opened an email in the last 30 days",
        ]
    )
    screenshot(page, "segment-detail")

    members.get_by_role("link", name="Lapsed Opener").click()
    expect(page).to_have_url(re.compile(f"/customers/{lapsed_opener}$"))
    page.go_back()
    page.click("#edit-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+/edit$"))
    expect(page.locator(".condition-row")).to_have_count(3, timeout=SLOW)
    expect(page.locator("#c-0-0-value")).to_have_value("150")
    expect(count).to_have_text(final, timeout=SLOW)
    page.fill("#c-0-0-value", "100")
    changed = _count_text(LEAF, _definition({**SPENT, "value": 100}, NO_ORDER, OPENED))
    expect(count).to_have_text(changed, timeout=SLOW)
    page.click("#save-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"), timeout=SLOW)
    expect(summary.first).to_have_text("spent more than $100 in the last 90 days", timeout=SLOW)
    expect(page.locator(".job-progress")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#member-count")).to_have_text(changed.split(" of ")[0], timeout=SLOW)

    with page.expect_download() as download:
        page.click("#export-csv")
    exported = download.value
    assert exported.suggested_filename == "lapsed-big-spenders-who-still-read.csv"
    content = Path(exported.path()).read_text()
    assert content.startswith("email,phone,first_name") and OPENER_EMAIL in content


def test_a_location_condition_counts_the_customers_of_the_chosen_store(page):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        [store, *_] = profiles.list_locations(session=session, tenant_id=tenant.id)
        store_id, store_name = store.id, store.name
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments/new")
    expect(page.locator("#live-count")).to_be_visible(timeout=SLOW)
    _add_condition(page, 0, "Profile field")
    page.click("#c-0-0-field")
    page.get_by_role("option", name="Location").click()
    expect(page.locator("#c-0-0-op")).to_have_text("is one of")
    error = page.locator("#estimate-error")
    expect(error).to_contain_text("choose at least one location", timeout=SLOW)
    page.locator("#c-0-0-picked").get_by_text(store_name).click()
    location = {"kind": "trait", "field": "location", "op": "in", "value": [store_id]}
    expect(page.locator("#live-count")).to_have_text(
        _count_text(LEAF, _definition(location)), timeout=SLOW
    )
    page.click("#group-0-negate")
    negated = _definition(location)
    negated["root"]["children"][0]["negate"] = True
    expect(page.locator("#live-count")).to_have_text(_count_text(LEAF, negated), timeout=SLOW)
    screenshot(page, "segment-builder-location")


def test_a_bad_condition_shows_the_message_naming_it_instead_of_a_count(page):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments/new")
    expect(page.locator("#live-count")).to_be_visible(timeout=SLOW)
    page.click("#add-group")
    _add_condition(page, 1, "Top spenders")
    page.fill("#c-1-0-value", "500")
    error = page.locator("#estimate-error")
    expect(error).to_contain_text("Group 2, condition 1", timeout=SLOW)
    expect(error).to_contain_text("100")
    expect(page.locator("#live-count")).to_have_count(0)
    screenshot(page, "segment-builder-error")
    page.fill("#c-1-0-value", "10")
    expect(page.locator("#live-count")).to_be_visible(timeout=SLOW)
    _add_condition(page, 0, "Did an event")
    expect(error).to_contain_text("Group 1, condition 1: enter the event name", timeout=SLOW)
    page.click("#save-segment")
    expect(page.get_by_text("enter the event name").first).to_be_visible()
    expect(page).to_have_url(re.compile("/segments/new"))


def test_a_preset_creates_a_segment(page):
    login_and_wait(page, "owner@barber.example.com")
    page.goto("/t/sharp-co/segments")
    expect(page.get_by_text("No segments yet")).to_be_visible(timeout=SLOW)
    expect(page.locator(".preset-card")).to_have_count(len(PRESETS))
    page.fill("#preset-high_value-value", "100")
    screenshot(page, "segments-empty-with-presets")
    page.click("#preset-high_value-create")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"), timeout=SLOW)
    expect(page.locator("#segment-title")).to_have_text("High-value customers: $100+")
    expect(page.locator(".job-progress")).to_contain_text("succeeded", timeout=JOB)
    expected = _count_text("sharp-co", preset_definition("high_value", {"amount": 100}))
    expect(page.locator("#member-count")).to_have_text(expected.split(" of ")[0])
    expect(page.locator("#definition-summary")).to_contain_text("spent at least $100 ever")
    page.click("#nav-segments")
    table = page.locator("#segments-table")
    expect(table).to_contain_text("High-value customers: $100+")
    screenshot(page, "segments-list")


def test_rfm_page_shows_the_chart_after_recalculating(page):
    login_and_wait(page, "owner@wine.example.com")
    page.goto("/t/piedmont-wine/segments")
    page.click("#rfm-link")
    expect(page).to_have_url(re.compile("/segments/rfm"))
    now_button = page.locator("#rfm-recalculate-now")
    expect(page.locator("#rfm-recalculate")).to_be_visible(timeout=SLOW)
    if now_button.is_visible():
        screenshot(page, "rfm-empty")
        now_button.click()
    else:
        page.click("#rfm-recalculate")
    expect(page.locator(".job-progress")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#rfm-chart .main-svg").first).to_be_visible(timeout=SLOW)
    expect(page.locator("#rfm-table")).to_contain_text("Champions")
    expect(page.locator("#rfm-computed")).not_to_contain_text("never")
    expect(page.locator("#rfm-explanation")).to_contain_text("quintiles")
    screenshot(page, "rfm")


def test_static_list_add_remove_and_csv_import(page, lapsed_opener, tmp_path):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments")
    page.click("#new-static-list")
    page.fill("#list-name", "Tasting night guests")
    page.click("#create-list")
    expect(page).to_have_url(re.compile(r"/segments/lists/\d+$"), timeout=SLOW)
    expect(page.get_by_text("The list is empty")).to_be_visible()

    page.fill("#list-search", "lapsed.opener")
    page.click(f"#add-{lapsed_opener}")
    members = page.locator("#members-table")
    expect(members).to_contain_text(OPENER_EMAIL, timeout=SLOW)
    expect(page.locator("#member-count")).to_have_text("1")
    screenshot(page, "static-list")
    page.click(f"#remove-{lapsed_opener}")
    expect(page.get_by_text("The list is empty")).to_be_visible(timeout=SLOW)

    csv_file = tmp_path / "guests.csv"
    csv_file.write_text(
        f"email,first_name\nguest.one@tasting.example,Guest\nnot-an-email,Nope\n{OPENER_EMAIL},\n"
    )
    page.set_input_files("#list-csv input[type=file]", str(csv_file))
    expect(page.get_by_text("guests.csv")).to_be_visible()
    page.click("#start-list-import")
    progress = page.locator(".job-progress")
    expect(progress).to_contain_text("succeeded", timeout=JOB)
    expect(progress).to_contain_text("2 added to the list")
    expect(page.locator("#import-rejected")).to_contain_text("Enter a valid email address.")
    expect(members).to_contain_text("guest.one@tasting.example", timeout=SLOW)
    expect(members).to_contain_text(OPENER_EMAIL)
    screenshot(page, "static-list-import")


def test_a_viewer_sees_segments_but_cannot_change_them(page):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        segment = segments.create_segment(
            session=session,
            tenant_id=tenant.id,
            name="Viewer can look",
            definition=_definition(NO_ORDER),
        )
        segment_id = segment.id
    login_and_wait(page, "viewer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments")
    expect(page.locator("#viewer-note")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("button", name="New segment")).to_be_disabled()
    expect(page.locator("#new-static-list")).to_be_disabled()
    expect(page.locator("#preset-vip-create")).to_be_disabled()
    page.get_by_role("link", name="Viewer can look").click()
    expect(page.locator("#segment-title")).to_have_text("Viewer can look", timeout=SLOW)
    expect(page.locator("#recalculate")).to_be_disabled()
    expect(page.locator("#delete-segment")).to_be_disabled()
    expect(page.locator("#edit-segment")).to_have_count(0)
    page.goto(f"/t/{LEAF}/segments/{segment_id}/edit")
    expect(page.locator("#save-segment")).to_be_disabled(timeout=SLOW)
    screenshot(page, "segment-builder-viewer")


def test_a_definition_deeper_than_the_builder_is_shown_read_only(page):
    deep = {
        "root": {
            "kind": "group",
            "op": "or",
            "children": [
                {
                    "kind": "group",
                    "op": "and",
                    "children": [
                        {"kind": "group", "op": "or", "negate": True, "children": [OPENED]},
                        NO_ORDER,
                    ],
                }
            ],
        }
    }
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        segment_id = segments.create_segment(
            session=session, tenant_id=tenant.id, name="Made through the API", definition=deep
        ).id
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments/{segment_id}")
    expect(page.locator("#definition-summary li")).to_have_text(
        ["NOT (opened an email in the last 30 days)", "no order in the last 60 days"],
        timeout=SLOW,
    )
    page.click("#edit-segment")
    expect(page.locator("#readonly-note")).to_be_visible(timeout=SLOW)
    expect(page.locator("#readonly-definition")).to_contain_text('"negate": true')
    expect(page.locator("#live-count")).to_have_text(_count_text(LEAF, deep), timeout=SLOW)
    screenshot(page, "segment-builder-readonly")


def test_deleting_a_segment_another_one_uses_is_refused(page):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        used = segments.create_segment(
            session=session, tenant_id=tenant.id, name="Used by another", definition={}
        )
        user = segments.create_segment(
            session=session,
            tenant_id=tenant.id,
            name="Uses another",
            definition=_definition({"kind": "segment", "segment_id": used.id}),
        )
        used_id, user_id = used.id, user.id
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/segments/{used_id}")
    page.click("#delete-segment")
    page.click("#confirm-delete")
    expect(page.locator("#delete-error")).to_contain_text("Uses another", timeout=SLOW)
    screenshot(page, "segment-delete-refused")
    page.goto(f"/t/{LEAF}/segments/{user_id}")
    expect(page.locator("#definition-summary li")).to_have_text(
        "in segment “Used by another”", timeout=SLOW
    )
    page.click("#delete-segment")
    page.click("#confirm-delete")
    expect(page).to_have_url(re.compile(f"/t/{LEAF}/segments$"), timeout=SLOW)
    expect(page.locator("#segments-table")).not_to_contain_text("Uses another")


def test_another_tenants_segment_is_not_found(page):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        segment_id = segments.create_segment(
            session=session, tenant_id=tenant.id, name="Leaf only", definition=_definition(OPENED)
        ).id
        list_id = segments.create_segment(
            session=session, tenant_id=tenant.id, name="Leaf list", kind=SegmentKind.STATIC
        ).id
    login_and_wait(page, "owner@wine.example.com")
    for path in (
        f"/t/piedmont-wine/segments/{segment_id}",
        f"/t/piedmont-wine/segments/{segment_id}/edit",
        f"/t/piedmont-wine/segments/lists/{list_id}",
        f"/t/{LEAF}/segments/{segment_id}",
        f"/t/{LEAF}/segments/rfm",
        "/t/piedmont-wine/segments/not-a-number",
    ):
        page.goto(path)
        expect(page.locator("#not-found")).to_be_visible(timeout=SLOW)
    screenshot(page, "segment-not-found")
    page.goto("/t/piedmont-wine/segments")
    expect(page.locator("#segments-table, :text('No segments yet')").first).to_be_visible()
    expect(page.get_by_text("Leaf only")).to_have_count(0)
