"""Email campaigns in the browser: a marketer builds one for a list (live count, a built-in
template, a subject with a token, the broken token's line reported and fixed), previews it as a
customer, sends it, watches the progress bar reach 100%, reads the report's charts and finds
the personalized messages in the outbox; templates, suppressions, viewers and tenant isolation.
Runs against the demo data with the console provider (no provider configured)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from marketing_app.db import get_engine, session_scope
from marketing_app.models import Campaign, Contact, EmailMessage, OutboxMessage
from marketing_app.services import campaign_lifecycle, campaigns, segments, static_lists
from marketing_app.services.campaign_send import start_send
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import (
    drop_and_wait_for_reconnect,
    drop_socket_on_demand,
    login_and_wait,
    screenshot,
)

pytestmark = pytest.mark.browser

LEAF, WINE = "carolina-leaf", "piedmont-wine"
SLOW = 30_000  # ms: a page load or a count on two busy cores
SEND = 120_000  # the tick starts the send within seconds; the worker sends it
GUESTS = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing")]
HTML = "<html><body><p>Hello {{ first_name | default('there') }}</p></body></html>"
READER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def _make_list(slug: str, name: str, people: list[tuple[str, str]]) -> tuple[int, str, list[str]]:
    """A static list of consented customers; returns its id, its name and their addresses."""
    tag = uuid.uuid4().hex[:6]
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=slug)
        contacts = [
            Contact(
                tenant_id=tenant.id,
                email=f"{first.lower()}.{tag}@guests.example",
                first_name=first,
                last_name=last,
                email_consent=True,
            )
            for first, last in people
        ]
        session.add_all(contacts)
        session.flush()
        found = segments.create_segment(
            session=session, tenant_id=tenant.id, name=f"{name} {tag}", kind="static"
        )
        static_lists.add_members(
            session=session,
            tenant_id=tenant.id,
            list_id=found.id,
            contact_ids=[c.id for c in contacts],
        )
        return found.id, found.name, [c.email for c in contacts]


def _draft(slug: str, name: str, list_id: int) -> int:
    """A campaign ready to send (sender, audience, valid content), left as a draft."""
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=slug)
        return campaigns.create_campaign(
            session=session,
            tenant_id=tenant.id,
            name=name,
            from_email="news@shop.example",
            audience={"segment_ids": [list_id]},
            content={"variants": [{"key": "A", "subject": "Hi {{ first_name }}", "html": HTML}]},
        ).id


@pytest.fixture(scope="module")
def guest_list(app_server) -> tuple[int, str, list[str]]:
    return _make_list(LEAF, "Campaign guests", GUESTS)


def _open_and_click(request, address: str) -> None:
    """What a reader's mail client does: load the open pixel, then follow the first link, as
    a desktop browser and more than the scanner window after the send."""
    with session_scope() as session:
        sent = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.to_address).contains(address))
        ).one()
        html = sent.html
        sent_at = session.get(EmailMessage, sent.message_id).sent_at
    time.sleep(max(0.0, (sent_at + timedelta(seconds=6) - datetime.now(UTC)).total_seconds()))
    pixel = re.search(r"/t/o/[^\"'\s]+\.gif", html).group(0)
    link = re.search(r"/t/c/[^\"'\s]+/0", html).group(0)
    for path in (pixel, link):
        answer = request.get(path, headers={"User-Agent": READER}, max_redirects=0)
        assert answer.status in (200, 302, 303, 307), (path, answer.status)


def _fill_subject(page: Page, text: str) -> None:
    subject = page.locator("#email-subject")
    subject.fill(text)
    expect(subject).to_have_value(text)


def test_marketer_builds_previews_sends_and_reads_the_report(page, guest_list):
    _, list_name, addresses = guest_list
    login_and_wait(page, "marketer@leaf.example.com")
    page.click("#nav-campaigns")
    expect(page).to_have_url(re.compile(f"/t/{LEAF}/campaigns"))
    page.click("#new-campaign")
    expect(page).to_have_url(re.compile("/campaigns/new"))
    page.fill("#campaign-name", "Weekend specials for guests")
    page.fill("#from-name", "Carolina Leaf")
    page.fill("#from-email", "news@leaf.example.com")

    page.locator("#audience-segments").get_by_text(list_name).click()
    expect(page.locator("#audience-count")).to_have_text("3 will receive it", timeout=SLOW)

    page.click("#template-pick")
    page.get_by_role("option", name="Built-in: Weekly Specials").click()
    expect(page.locator("#email-subject")).to_have_value(
        "This week's specials at {{ tenant_name }}"
    )
    expect(page.locator("#email-html")).to_have_value(re.compile("<table"))

    _fill_subject(page, "{{ frist_name }}, this week's specials")
    problems = page.locator("#template-problems")
    expect(problems).to_contain_text("Subject, line 1: Unknown token 'frist_name'")
    screenshot(page, "campaign-builder-error")
    _fill_subject(page, "This week's specials,")
    page.click("#token-picker")
    page.locator(".token-item", has_text="{{ first_name }}").click()
    expect(page.locator("#email-subject")).to_have_value("This week's specials, {{ first_name }}")
    expect(page.locator("#template-ok")).to_be_visible()

    page.fill("#preview-customer-search", "Ada")
    page.locator(".customer-result", has_text=addresses[0]).click()
    expect(page.locator("#preview-as")).to_contain_text("Ada Lovelace")
    expect(page.locator("#preview-subject")).to_have_text(
        "Subject: This week's specials, Ada", timeout=SLOW
    )
    expect(page.frame_locator("#preview-frame").locator("body")).to_contain_text(
        "Carolina Leaf Dispensary"
    )
    screenshot(page, "campaign-builder")

    page.click("#save-campaign")
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=SLOW)
    expect(page.locator("#campaign-title")).to_have_text("Weekend specials for guests")
    expect(page.locator("#readiness-problems")).to_have_count(0)
    page.click("#send-now")
    expect(page.locator("#progress-percent")).to_have_text("100%", timeout=SEND)
    expect(page.locator(".campaign-status")).to_have_text("sent", timeout=SLOW)
    expect(page.locator("#progress-text")).to_contain_text("3 sent")
    campaign_url = page.url

    page.click("#nav-outbox")
    table = page.locator("#outbox-table")
    for (first, _), address in zip(GUESTS, addresses, strict=True):
        row = table.locator("tr", has_text=address)
        expect(row).to_contain_text(f"This week's specials, {first}")
    screenshot(page, "outbox-list")
    table.locator(".outbox-subject", has_text="specials, Grace").first.click()
    expect(page.locator("#outbox-message-subject")).to_have_text("This week's specials, Grace")
    expect(page.frame_locator("#outbox-frame").locator("body")).to_contain_text("Unsubscribe")
    screenshot(page, "outbox-message")

    _open_and_click(page.context.request, addresses[1])  # Grace reads it and clicks a link
    page.goto(campaign_url)
    report = page.locator("#campaign-report")
    expect(report).to_contain_text("33.3%", timeout=SLOW)  # 1 of 3 opened and clicked
    expect(report.locator("#funnel-chart .main-svg").first).to_be_visible(timeout=SLOW)
    expect(report.locator("#timeline-chart .main-svg").first).to_be_visible()
    expect(report.locator("#timeline-chart")).not_to_contain_text("No opens or clicks yet")
    screenshot(page, "campaign-report")


def test_a_send_whose_rows_are_still_being_written_says_so_until_they_are(page):
    """A big "Send now" starts on its first recipients while the rest are written: here one
    of three, with the rest held back by a lock on the campaign (a slow writer). The progress
    bar says it is still listing recipients and stays under 100%; once the lock goes the
    beat's tick writes the rest and the send completes."""
    if not get_engine().url.drivername.startswith("postgresql"):
        pytest.skip("rows go in parts on PostgreSQL only")
    list_id, _, _ = _make_list(LEAF, "Big send guests", GUESTS)
    campaign_id = _draft(LEAF, f"Big send {uuid.uuid4().hex[:4]}", list_id)
    with session_scope() as session:  # scheduled and started at once: the tick never starts it
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        campaign_lifecycle.schedule_campaign(
            session=session, tenant_id=tenant.id, campaign_id=campaign_id
        )
        start_send(session=session, campaign_id=campaign_id, summarize=False, first_part=1)
    with Session(get_engine()) as writer:
        writer.exec(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        login_and_wait(page, "marketer@leaf.example.com")
        page.goto(f"/t/{LEAF}/campaigns/{campaign_id}")
        expect(page.locator("#progress-text")).to_contain_text(
            "of 1 so far (still listing recipients)", timeout=SLOW
        )
        expect(page.locator("#progress-percent")).not_to_have_text("100%")
        expect(page.locator("#funnel-chart .main-svg").first).to_be_visible(timeout=SLOW)
        screenshot(page, "campaign-listing-recipients")
    expect(page.locator("#progress-percent")).to_have_text("100%", timeout=SEND)
    expect(page.locator("#progress-text")).to_have_text(
        "3 sent, 0 failed, 0 skipped, 0 to go, of 3", timeout=SLOW
    )


def test_an_ab_test_sends_two_subjects_and_the_marketer_picks_the_winner(page):
    _, list_name, _ = _make_list(LEAF, "AB guests", [(f"Tester{i}", "Ab") for i in range(20)])
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/campaigns/new")
    page.fill("#campaign-name", "Subject line test")
    page.fill("#from-email", "news@leaf.example.com")
    page.locator("#audience-segments").get_by_text(list_name).click()
    expect(page.locator("#audience-count")).to_have_text("20 will receive it", timeout=SLOW)
    page.click("#template-pick")
    page.get_by_role("option", name="Built-in: Weekly Specials").click()
    # The template lands in the editor in its own round trip: fill after it, not before.
    expect(page.locator("#email-subject")).to_have_value(re.compile("This week's specials"))
    _fill_subject(page, "A: specials for {{ first_name }}")

    page.click("#ab-enabled")
    expect(page.locator("#variant-tab-B")).to_be_visible()
    _fill_subject(page, "B: {{ first_name }}, deals inside")
    page.fill("#ab-percent", "50")
    page.click("#variant-tab-A")
    expect(page.locator("#email-subject")).to_have_value("A: specials for {{ first_name }}")
    page.click("#variant-tab-B")
    expect(page.locator("#email-subject")).to_have_value("B: {{ first_name }}, deals inside")
    screenshot(page, "campaign-builder-ab")
    page.click("#save-campaign")
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=SLOW)
    expect(page.get_by_text("50% of the audience gets the variants")).to_be_visible()

    page.click("#send-now")
    variants = page.locator("#variants-table")
    expect(variants).to_contain_text("Held for the winner", timeout=SEND)
    expect(page.locator("#winner-B")).to_be_visible(timeout=SEND)
    expect(variants).to_contain_text("%")  # each variant's chance of being best
    expect(page.locator("#progress-percent")).not_to_have_text("100%")
    screenshot(page, "campaign-ab")
    page.click("#winner-B")
    expect(page.locator("#progress-percent")).to_have_text("100%", timeout=SEND)
    expect(variants).to_contain_text("winner by hand", timeout=SLOW)
    expect(page.locator(".campaign-status")).to_have_text("sent", timeout=SLOW)


def test_unsaved_campaign_edits_survive_a_dropped_connection(page, guest_list):
    """A reconnect re-runs the builder's on_load; what the marketer typed stays, and the
    template is still checked as they go on typing."""
    _, list_name, _ = guest_list
    relays = drop_socket_on_demand(page)
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/campaigns/new")
    page.fill("#campaign-name", "Typed before the blip")
    page.locator("#audience-segments").get_by_text(list_name).click()
    expect(page.locator("#audience-count")).to_have_text("3 will receive it", timeout=SLOW)
    _fill_subject(page, "Hello {{ first_name }}")

    drop_and_wait_for_reconnect(page, relays)
    _fill_subject(page, "{{ frist_name }}, hello")  # checked through the new connection
    expect(page.locator("#template-problems")).to_contain_text(
        "Unknown token 'frist_name'", timeout=SLOW
    )
    expect(page.locator("#campaign-name")).to_have_value("Typed before the blip")
    expect(page.locator("#audience-count")).to_have_text("3 will receive it")


def test_a_campaign_that_is_not_ready_says_why_and_cannot_be_sent(page):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/campaigns/new")
    page.fill("#campaign-name", "Not ready yet")
    page.click("#save-campaign")
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"), timeout=SLOW)
    problems = page.locator("#readiness-problems")
    expect(problems).to_contain_text("Choose at least one segment or list to send to.")
    expect(problems).to_contain_text("Give a from address.")
    expect(problems).to_contain_text("The subject is empty.")
    expect(page.locator("#send-now")).to_be_disabled()
    screenshot(page, "campaign-not-ready")
    page.click("#delete-campaign")
    page.click("#confirm-delete")
    expect(page).to_have_url(re.compile(f"/t/{LEAF}/campaigns$"), timeout=SLOW)
    expect(page.get_by_text("Not ready yet")).to_have_count(0)


def test_template_test_send_lands_in_the_outbox_and_suppressions_are_managed(page):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/email-templates")
    expect(page.locator("#builtin-gallery .builtin-card")).to_have_count(10, timeout=SLOW)
    screenshot(page, "email-templates")
    page.click("#use-birthday")
    expect(page).to_have_url(re.compile(r"/email-templates/\d+$"), timeout=SLOW)
    expect(page.locator("#template-name")).to_have_value(re.compile("^Birthday"))
    expect(page.locator("#preview-subject")).to_contain_text("Happy birthday", timeout=SLOW)
    page.fill("#test-from", "news@leaf.example.com")
    page.fill("#test-to", "me@leaf.example.com")
    page.click("#send-test")
    expect(page.get_by_text("Test sent to me@leaf.example.com (see the Outbox).")).to_be_visible()
    screenshot(page, "template-editor")
    page.goto(f"/t/{LEAF}/outbox")
    expect(page.locator("#outbox-table tr", has_text="me@leaf.example.com").first).to_contain_text(
        "[Test] Happy birthday"
    )

    address = f"blocked-{uuid.uuid4().hex[:6]}@example.com"
    page.goto(f"/t/{LEAF}/suppressions")
    page.fill("#suppression-address", "not an address")
    page.click("#add-suppression")
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    page.fill("#suppression-address", address.upper())
    page.click("#add-suppression")
    row = page.locator("#suppressions-table tr", has_text=address)
    expect(row).to_contain_text("Added by hand")
    page.fill("#suppression-address", address)
    page.click("#add-suppression")
    expect(page.get_by_text(f"{address} is already suppressed")).to_be_visible()
    screenshot(page, "suppressions")
    row.locator(".remove-suppression").click()
    expect(page.locator("#suppressions-table tr", has_text=address)).to_have_count(0)


def test_a_viewer_reads_campaigns_but_cannot_send(page, guest_list):
    list_id, _, _ = guest_list
    campaign_id = _draft(LEAF, f"Viewer check {uuid.uuid4().hex[:4]}", list_id)
    login_and_wait(page, "viewer@leaf.example.com")
    page.goto(f"/t/{LEAF}/campaigns/{campaign_id}")
    expect(page.locator("#viewer-note")).to_be_visible(timeout=SLOW)
    expect(page.locator("#campaign-title")).to_contain_text("Viewer check")
    expect(page.locator("#send-now")).to_be_disabled()
    expect(page.locator("#delete-campaign")).to_be_disabled()
    screenshot(page, "campaign-viewer")
    page.goto(f"/t/{LEAF}/campaigns/{campaign_id}/edit")
    expect(page.locator("#save-campaign")).to_be_disabled(timeout=SLOW)
    page.goto(f"/t/{LEAF}/suppressions")
    expect(page.locator("#add-suppression")).to_be_disabled(timeout=SLOW)


def test_campaigns_of_another_tenant_are_neither_listed_nor_opened(page, guest_list):
    wine_list, _, _ = _make_list(WINE, "Wine guests", [("Wes", "Vine")])
    wine_campaign = _draft(WINE, "Wine-only harvest letter", wine_list)
    leaf_campaign = _draft(LEAF, "Leaf-only letter", guest_list[0])
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/campaigns")
    table = page.locator("#campaigns-table")
    expect(table).to_contain_text("Leaf-only letter", timeout=SLOW)
    expect(table).not_to_contain_text("Wine-only harvest letter")
    screenshot(page, "campaigns-list")
    page.goto(f"/t/{LEAF}/campaigns/{wine_campaign}")
    expect(page.locator("#not-found")).to_be_visible(timeout=SLOW)
    page.goto(f"/t/{WINE}/campaigns")
    expect(page.locator("#not-found")).to_be_visible(timeout=SLOW)
    page.goto(f"/t/{LEAF}/campaigns/{leaf_campaign}")
    expect(page.locator("#campaign-title")).to_have_text("Leaf-only letter", timeout=SLOW)


def test_owner_adds_email_providers_and_a_refused_one_is_not_saved(page):
    login_and_wait(page, "owner@wine.example.com")
    page.goto(f"/t/{WINE}/settings")
    page.click("#tab-email")
    expect(page.get_by_text("No email provider yet")).to_be_visible(timeout=SLOW)
    page.click("#provider-choice")
    page.get_by_role("option", name="SMTP").click()
    page.fill("#provider-host", "127.0.0.1")
    page.fill("#provider-port", "1")  # nothing listens there: the check is refused
    page.fill("#provider-security", "none")
    page.click("#save-provider")
    expect(page.get_by_text("SMTP did not accept these settings")).to_be_visible(timeout=SLOW)
    expect(page.locator("#email-providers-table")).to_have_count(0)
    page.click("#provider-choice")
    page.get_by_role("option", name="Console outbox").click()
    page.click("#save-provider")
    table = page.locator("#email-providers-table")
    expect(table).to_contain_text("Console outbox", timeout=SLOW)
    screenshot(page, "settings-email")
