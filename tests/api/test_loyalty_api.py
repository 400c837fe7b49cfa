"""Loyalty through the management API: program, member card, earn/redeem/adjust with
idempotency keys, crediting and refunding orders, summary and sync."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from marketing_app.models import JobRun, LoyaltyLedgerEntry, LoyaltyProgram, LoyaltyRedemption
from tests.api.conftest import issue_key
from tests.services.test_loyalty_support import (
    assert_ledger_consistent,
    make_contact,
    make_order,
)

BASE = "/api/v1/loyalty"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def headers(secret_key) -> dict[str, str]:
    return bearer(secret_key)


@pytest.fixture
def metals(client, headers) -> dict:
    saved = client.put(f"{BASE}/program", headers=headers, json={"preset": "metals"})
    assert saved.status_code == 200, saved.text
    return saved.json()


def _counts(session, tenant) -> tuple[int, int, int]:
    """(ledger entries, redemptions, job rows) of the tenant."""
    session.expire_all()
    return tuple(
        session.exec(select(func.count()).where(model.tenant_id == tenant.id)).one()
        for model in (LoyaltyLedgerEntry, LoyaltyRedemption, JobRun)
    )


def _earn(client, headers, contact_id: int, points: int, key: str, reason: str = "Survey"):
    return client.post(
        f"{BASE}/profiles/{contact_id}/earn",
        headers={**headers, "Idempotency-Key": key},
        json={"points": points, "reason": reason},
    )


def test_program_round_trip_with_presets_and_overrides(client, session, tenant, headers):
    missing = client.get(f"{BASE}/program", headers=headers)
    assert missing.status_code == 404 and "no loyalty program yet" in missing.json()["detail"]

    alpine = client.put(
        f"{BASE}/program", headers=headers, json={"name": "Leaf Rewards", "preset": "alpineiq"}
    )
    assert alpine.status_code == 200, alpine.text
    tiers = alpine.json()["settings"]["tiers"]
    assert [(t["threshold"], t["reward"]["percent_off"]) for t in tiers] == [
        (100, 5),
        (200, 10),
        (400, 15),
        (600, 20),
        (800, 25),
    ]
    assert client.get(f"{BASE}/program", headers=headers).json()["name"] == "Leaf Rewards"

    overridden = client.put(
        f"{BASE}/program",
        headers=headers,
        json={"preset": "metals", "settings": {"points_per_dollar": 2.5, "expiry_days": 180}},
    ).json()
    assert overridden["name"] == "Leaf Rewards"  # omitted: kept
    settings = overridden["settings"]
    assert [t["name"] for t in settings["tiers"]] == ["Bronze", "Silver", "Gold", "Platinum"]
    assert (settings["points_per_dollar"], settings["expiry_days"]) == ("2.5", 180)

    custom = client.put(
        f"{BASE}/program",
        headers=headers,
        json={"settings": {"tiers": [{"name": "VIP", "threshold": 10}]}},
    ).json()
    assert [t["name"] for t in custom["settings"]["tiers"]] == ["VIP"]
    assert custom["settings"]["points_per_dollar"] == "1"  # defaults, not the old program's


def test_earn_redeem_adjust_round_trip_and_the_member_card(client, session, tenant, headers):
    client.put(f"{BASE}/program", headers=headers, json={"preset": "metals"})
    ann = make_contact(session, tenant, first_name="Ann")
    earned = _earn(client, headers, ann.id, 600, "survey-1")
    assert earned.status_code == 200, earned.text
    assert earned.json() == {"contact_id": ann.id, "points": 600, "balance": 600, "replayed": False}

    card = client.get(f"{BASE}/profiles/{ann.id}", headers=headers).json()
    assert (card["member"], card["balance"], card["tier"]) == (True, 600, "Silver")
    assert (card["next_tier"], card["points_to_next_tier"]) == ("Gold", 900)
    assert card["value_cents"] == 3000  # 600 points at 5 cents
    assert card["history"][0]["reason"] == "Survey" and card["history_total"] == 1

    by_points = client.post(
        f"{BASE}/profiles/{ann.id}/redeem",
        headers=headers,
        json={"points": 200, "idempotency_key": "checkout-1"},
    ).json()
    assert (by_points["amount_off_cents"], by_points["balance"]) == (1000, 400)
    assert by_points["code"] and by_points["replayed"] is False
    by_tier = client.post(
        f"{BASE}/profiles/{ann.id}/redeem",
        headers={**headers, "Idempotency-Key": "checkout-2"},
        json={"tier": "silver"},
    ).json()
    assert (by_tier["tier"], by_tier["points"], by_tier["amount_off_cents"]) == (
        "Silver",
        200,
        1200,
    )
    assert by_tier["balance"] == 200
    gold = client.post(
        f"{BASE}/profiles/{ann.id}/redeem",
        headers={**headers, "Idempotency-Key": "checkout-3"},
        json={"tier": "Gold"},
    )
    assert gold.status_code == 409 and gold.json()["field"] == "tier"

    down = client.post(
        f"{BASE}/profiles/{ann.id}/adjust",
        headers=headers,
        json={"points": -50, "reason": "Duplicate visit", "adjustment_id": "fix-1"},
    ).json()
    assert (down["points"], down["balance"]) == (-50, 150)
    up = client.post(
        f"{BASE}/profiles/{ann.id}/adjust",
        headers={**headers, "Idempotency-Key": "fix-2"},
        json={"points": 25, "reason": "Goodwill", "count_toward_tier": False},
    ).json()
    assert up["balance"] == 175
    card = client.get(f"{BASE}/profiles/{ann.id}?limit=2&offset=1", headers=headers).json()
    assert (card["balance"], card["lifetime_earned"], card["history_total"]) == (175, 550, 5)
    assert [line["kind"] for line in card["history"]] == ["adjust", "redeem"]
    assert (card["limit"], card["offset"]) == (2, 1)
    assert_ledger_consistent(session, tenant)

    newcomer = make_contact(session, tenant)
    empty = client.get(f"{BASE}/profiles/{newcomer.id}", headers=headers).json()
    assert (empty["member"], empty["balance"], empty["history"]) == (False, 0, [])


def test_idempotency_keys_write_once_and_refuse_a_different_request(
    client, session, tenant, headers, metals
):
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    first = _earn(client, headers, ann.id, 100, "k-1").json()
    again = _earn(client, headers, ann.id, 100, "k-1").json()
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert (again["points"], again["balance"]) == (0, 100)
    body_key = client.post(
        f"{BASE}/profiles/{ann.id}/earn",
        headers=headers,
        json={"points": 100, "reason": "Survey", "idempotency_key": "k-1"},
    ).json()
    assert body_key["replayed"] is True
    assert _counts(session, tenant)[0] == 1

    for response in (
        _earn(client, headers, ann.id, 999, "k-1"),  # other points
        _earn(client, headers, ann.id, 100, "k-1", reason="Other"),  # other reason
        _earn(client, headers, bob.id, 100, "k-1"),  # other customer
    ):
        assert response.status_code == 409, response.text
        assert response.json() == {
            "detail": "This idempotency_key was used for a different request.",
            "field": "idempotency_key",
        }
    differ = client.post(
        f"{BASE}/profiles/{ann.id}/earn",
        headers={**headers, "Idempotency-Key": "k-2"},
        json={"points": 5, "reason": "x", "idempotency_key": "k-3"},
    )
    assert differ.status_code == 422 and differ.json()["field"] == "idempotency_key"
    keyless = client.post(
        f"{BASE}/profiles/{ann.id}/earn", headers=headers, json={"points": 5, "reason": "x"}
    )
    assert keyless.status_code == 422 and keyless.json()["field"] == "idempotency_key"

    adjust = {"points": 30, "reason": "Fix", "adjustment_id": "a-1"}
    path = f"{BASE}/profiles/{ann.id}/adjust"
    assert client.post(path, headers=headers, json=adjust).json()["balance"] == 130
    assert client.post(path, headers=headers, json=adjust).json()["replayed"] is True
    other = client.post(path, headers=headers, json={**adjust, "points": -30})
    assert other.status_code == 409 and other.json()["field"] == "adjustment_id"

    redeem = {"points": 100, "idempotency_key": "r-1"}
    path = f"{BASE}/profiles/{ann.id}/redeem"
    code = client.post(path, headers=headers, json=redeem).json()
    replay = client.post(path, headers=headers, json=redeem).json()
    assert (replay["code"], replay["replayed"], replay["balance"]) == (code["code"], True, 30)
    assert client.post(path, headers=headers, json={**redeem, "points": 10}).status_code == 409
    assert _counts(session, tenant)[:2] == (3, 1)
    assert_ledger_consistent(session, tenant)


def test_a_redemption_or_removal_above_the_balance_is_refused_and_writes_nothing(
    client, session, tenant, headers, metals
):
    ann = make_contact(session, tenant)
    _earn(client, headers, ann.id, 100, "k-1")
    before = _counts(session, tenant)
    refused = client.post(
        f"{BASE}/profiles/{ann.id}/redeem",
        headers={**headers, "Idempotency-Key": "r-1"},
        json={"points": 500},
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "Not enough points: the balance is 100 and this needs 500.",
        "field": "points",
    }
    removal = client.post(
        f"{BASE}/profiles/{ann.id}/adjust",
        headers=headers,
        json={"points": -101, "reason": "Too much", "adjustment_id": "a-1"},
    )
    assert removal.status_code == 409 and "below zero" in removal.json()["detail"]
    assert _counts(session, tenant) == before
    assert client.get(f"{BASE}/profiles/{ann.id}", headers=headers).json()["balance"] == 100
    # the refused key is still free for a redemption the balance covers
    ok = client.post(
        f"{BASE}/profiles/{ann.id}/redeem",
        headers={**headers, "Idempotency-Key": "r-1"},
        json={"points": 100},
    )
    assert ok.status_code == 200 and ok.json()["balance"] == 0


def test_credit_orders_credits_once_and_a_refund_reverses(client, session, tenant, headers, metals):
    ann, bob = make_contact(session, tenant), make_contact(session, tenant)
    big = make_order(session, tenant, ann, 60_000)  # $600: 600 points, Silver
    make_order(session, tenant, bob, 2_500)
    make_order(session, tenant, None, 1_000)  # nobody to credit

    only_bob = client.post(f"{BASE}/credit-orders", headers=headers, json={"contact_id": bob.id})
    assert only_bob.json()["orders_credited"] == 1 and only_bob.json()["points"] == 25
    credited = client.post(f"{BASE}/credit-orders", headers=headers)
    assert credited.status_code == 200, credited.text
    result = credited.json()
    assert (result["orders_credited"], result["points"], result["skipped_no_customer"]) == (
        1,
        600,
        1,
    )
    assert result["tier_change_count"] == 1
    assert result["tier_changes"] == [
        {"contact_id": ann.id, "old_tier": "", "new_tier": "Silver", "up": True}
    ]
    replayed = client.post(f"{BASE}/credit-orders", headers=headers, json={}).json()
    assert (replayed["orders_credited"], replayed["points"]) == (0, 0)

    path = f"{BASE}/orders/{big.id}/refund"
    half = client.post(path, headers=headers, json={"refund_id": "rf-1", "amount_cents": 30_000})
    assert half.status_code == 200, half.text
    assert (half.json()["reversed_points"], half.json()["refunded_cents"]) == (300, 30_000)
    assert half.json()["tier_changes"][0]["new_tier"] == "Bronze"
    again = client.post(path, headers=headers, json={"refund_id": "rf-1", "amount_cents": 30_000})
    assert again.json()["replayed"] is True and again.json()["reversed_points"] == 0
    rest = client.post(  # capped at what is left
        path, headers=headers, json={"refund_id": "rf-2", "amount_cents": 10**30}
    ).json()
    assert (rest["reversed_points"], rest["refunded_cents"]) == (300, 30_000)
    done = client.post(path, headers=headers, json={"refund_id": "rf-3"}).json()
    assert done["skipped"] == "The order was refunded in full already."
    card = client.get(f"{BASE}/profiles/{ann.id}", headers=headers).json()
    assert (card["balance"], card["lifetime_earned"]) == (0, 0)
    assert [line["kind"] for line in card["history"]] == ["reverse", "reverse", "earn"]
    assert_ledger_consistent(session, tenant)


def test_summary_shows_tiers_liability_and_activity(client, session, tenant, headers, metals):
    ann = make_contact(session, tenant, first_name="Ann", last_name="Lee")
    bob = make_contact(session, tenant, email="bob@example.com")
    _earn(client, headers, ann.id, 1_600, "k-1")
    _earn(client, headers, bob.id, 17, "k-2")
    summary = client.get(f"{BASE}/summary?activity_limit=1", headers=headers)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["members"] == 2
    assert {t["tier"]: t["members"] for t in body["tiers"]} == {
        "Bronze": 1,
        "Silver": 0,
        "Gold": 1,
        "Platinum": 0,
    }
    assert body["liability"] == {
        "points": 1_617,
        "cents": 8_085,
        "dollars": "80.85",
        "members_with_points": 2,
    }
    assert [(a["customer"], a["points"]) for a in body["recent_activity"]] == [
        ("bob@example.com", 17)
    ]
    full = client.get(f"{BASE}/summary", headers=headers).json()
    assert [a["customer"] for a in full["recent_activity"]] == ["bob@example.com", "Ann Lee"]


@pytest.mark.parametrize("path", [f"{BASE}/sync", "/api/loyalty/sync"])
def test_sync_without_a_connected_provider_answers_409_and_queues_nothing(
    client, session, tenant, headers, metals, path
):
    """With providers connected the route queues the loyalty sync (tests/api/
    test_loyalty_sync_api.py); without any there is nothing to sync."""
    ann = make_contact(session, tenant)
    for body in (None, {"contact_id": ann.id}):
        refused = client.post(path, headers=headers, json=body)
        assert refused.status_code == 409, refused.text
        assert "No loyalty provider is connected" in refused.json()["detail"]
    assert _counts(session, tenant)[2] == 0  # no job rows


def test_tenants_never_see_or_touch_each_others_loyalty(
    client, session, tenant, other_tenant, headers, metals
):
    ann = make_contact(session, tenant)
    order = make_order(session, tenant, ann, 50_000)
    _earn(client, headers, ann.id, 100, "k-1")
    theirs = bearer(issue_key(session, other_tenant))
    client.put(f"{BASE}/program", headers=theirs, json={"preset": "alpineiq"})
    before = _counts(session, tenant)
    profile = f"{BASE}/profiles/{ann.id}"
    for response in (
        client.get(profile, headers=theirs),
        _earn(client, theirs, ann.id, 100, "k-1"),
        client.post(
            f"{profile}/redeem", headers=theirs, json={"points": 1, "idempotency_key": "r"}
        ),
        client.post(
            f"{profile}/adjust",
            headers=theirs,
            json={"points": -100, "reason": "x", "adjustment_id": "a"},
        ),
        client.post(f"{BASE}/credit-orders", headers=theirs, json={"contact_id": ann.id}),
        client.post(f"{BASE}/sync", headers=theirs, json={"contact_id": ann.id}),
        client.post("/api/loyalty/sync", headers=theirs, json={"contact_id": ann.id}),
    ):
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.json() == {"detail": "Customer not found.", "field": None}
    refund = client.post(
        f"{BASE}/orders/{order.id}/refund", headers=theirs, json={"refund_id": "r"}
    )
    assert refund.status_code == 404 and refund.json()["detail"] == "Order not found."

    credited = client.post(f"{BASE}/credit-orders", headers=theirs).json()
    assert credited["orders_credited"] == 0  # tenant A's order stays A's
    summary = client.get(f"{BASE}/summary", headers=theirs).json()
    assert (summary["members"], summary["recent_activity"]) == (0, [])
    assert client.get(f"{BASE}/program", headers=theirs).json()["settings"]["source_of_truth"] == (
        "alpineiq"
    )
    assert client.get(f"{BASE}/program", headers=headers).json()["settings"]["tiers"][0][
        "name"
    ] == ("Bronze")
    assert _counts(session, tenant) == before


def test_publishable_keys_and_missing_keys_are_refused(client, session, tenant, metals):
    publishable = bearer(issue_key(session, tenant, "publishable"))
    ann = make_contact(session, tenant)
    for method, path in (
        ("get", f"{BASE}/program"),
        ("put", f"{BASE}/program"),
        ("get", f"{BASE}/profiles/{ann.id}"),
        ("post", f"{BASE}/profiles/{ann.id}/earn"),
        ("post", f"{BASE}/profiles/{ann.id}/redeem"),
        ("post", f"{BASE}/profiles/{ann.id}/adjust"),
        ("post", f"{BASE}/credit-orders"),
        ("post", f"{BASE}/orders/1/refund"),
        ("get", f"{BASE}/summary"),
        ("post", f"{BASE}/sync"),
        ("post", "/api/loyalty/sync"),
    ):
        refused = client.request(method, path, headers=publishable, json={})
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["detail"] == (
            "A publishable key cannot be used here; use a secret key."
        )
        assert client.request(method, path, json={}).status_code == 401
    assert _counts(session, tenant) == (0, 0, 0)


def test_bad_input_gets_4xx_never_500_and_writes_nothing(client, session, tenant, headers):
    ann = make_contact(session, tenant)
    no_program = client.post(f"{BASE}/sync", headers=headers)
    assert no_program.status_code == 404 and "no loyalty program" in no_program.json()["detail"]
    earn = f"{BASE}/profiles/{ann.id}/earn"
    assert _earn(client, headers, ann.id, 5, "k").status_code == 404  # no program yet
    program = f"{BASE}/program"
    refused_programs = [
        ("preset", {"preset": "gold_rush"}),
        ("settings", {}),
        ("points_per_dollar", {"settings": {"points_per_dollar": -1}}),
        ("tiers", {"settings": {"tiers": [{"name": "A", "threshold": 10**30}]}}),
        ("signup_bonus", {"settings": {"signup_bonus": 10**30}}),
        ("settings", {"settings": {"category_multipliers": {"flower\x00": 2}}}),  # PostgreSQL
        ("name", {"preset": "metals", "name": " "}),
        ("name", {"preset": "metals", "name": "Leaf\x00"}),
    ]
    for field, body in refused_programs:
        refused = client.put(program, headers=headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["field"] == field, (body, refused.json())
    unknown = client.put(program, headers=headers, json={"preset": "gold_rush"}).json()
    assert unknown["detail"] == "Unknown preset 'gold_rush': choose alpineiq, metals"
    json_headers = {**headers, "Content-Type": "application/json"}
    for raw in (
        b'{"preset": "metals",',
        b'{"settings": {"points_per_dollar": NaN}}',
        b"[1]",
        b'{"settings": [1]}',
    ):
        assert client.put(program, headers=json_headers, content=raw).status_code == 422
    huge = b'{"settings": {"points_per_dollar": 1e999, "expiry_days": 1e400}}'
    assert client.put(program, headers=json_headers, content=huge).status_code == 422
    assert (
        session.exec(select(func.count()).where(LoyaltyProgram.tenant_id == tenant.id)).one() == 0
    )

    client.put(program, headers=headers, json={"preset": "metals"})
    order = make_order(session, tenant, ann, 10_000)
    _earn(client, headers, ann.id, 500, "seed")
    before = _counts(session, tenant)
    keyed = {**headers, "Idempotency-Key": "k"}
    profile = f"{BASE}/profiles/{ann.id}"
    refused = [
        _earn(client, headers, ann.id, -5, "k"),
        _earn(client, headers, ann.id, 0, "k"),
        _earn(client, headers, ann.id, 10**30, "k"),
        _earn(client, headers, ann.id, 5, "k", reason=" "),
        _earn(client, headers, ann.id, 5, "x" * 201),
        _earn(client, headers, ann.id, 5, "k", reason="nul\x00"),
        client.post(earn, headers=keyed, json={"points": 1.5, "reason": "x"}),
        client.post(earn, headers=keyed, json={"points": "lots", "reason": "x"}),
        client.post(earn, headers=keyed, json={"points": 5}),
        client.post(earn, headers=keyed, json={"points": 5, "reason": "x", "bonus": True}),
        client.post(earn, headers={**keyed, **json_headers}, content=b'{"points": 5,'),
        client.post(earn, headers={**keyed, **json_headers}, content=b'{"points": 1e999}'),
        client.post(f"{profile}/redeem", headers=keyed, json={"points": -100}),
        client.post(f"{profile}/redeem", headers=keyed, json={"points": 10**30}),
        client.post(f"{profile}/redeem", headers=keyed, json={}),
        client.post(f"{profile}/redeem", headers=keyed, json={"points": 100, "tier": "Bronze"}),
        client.post(f"{profile}/redeem", headers=keyed, json={"tier": "Diamond"}),
        client.post(f"{profile}/redeem", headers=keyed, json={"tier": "Gold\x00"}),
        client.post(f"{profile}/redeem", headers=headers, json={"points": 100}),
        client.post(f"{profile}/adjust", headers=keyed, json={"points": 0, "reason": "x"}),
        client.post(f"{profile}/adjust", headers=keyed, json={"points": -(10**30), "reason": "x"}),
        client.post(f"{profile}/adjust", headers=headers, json={"points": 5, "reason": "x"}),
        client.post(f"{BASE}/orders/{order.id}/refund", headers=headers, json={}),
        client.post(f"{BASE}/orders/{order.id}/refund", headers=headers, json={"refund_id": " "}),
        client.post(
            f"{BASE}/orders/{order.id}/refund", headers=headers, json={"refund_id": "r\x00"}
        ),
        client.post(
            f"{BASE}/orders/{order.id}/refund",
            headers=headers,
            json={"refund_id": "r", "amount_cents": -100},
        ),
        client.post(
            f"{BASE}/orders/{order.id}/refund",
            headers=json_headers,
            content=b'{"refund_id": "r", "amount_cents": 1e400}',
        ),
        client.post(f"{BASE}/credit-orders", headers=headers, json={"contact_id": 2**70}),
        client.post(f"{BASE}/credit-orders", headers=headers, json={"contact_id": "all"}),
        client.post(f"{BASE}/sync", headers=headers, json={"contact_id": 0}),
        client.post(f"{BASE}/sync", headers=json_headers, content=b"{"),
        client.get(f"{BASE}/profiles/{2**70}", headers=headers),
        client.get(f"{BASE}/profiles/0", headers=headers),
        client.get(f"{BASE}/profiles/abc", headers=headers),
        client.get(f"{profile}?limit=0", headers=headers),
        client.get(f"{profile}?limit=100000", headers=headers),
        client.get(f"{profile}?offset=-1", headers=headers),
        client.get(f"{profile}?offset={10**30}", headers=headers),
        client.get(f"{BASE}/summary?activity_limit=-1", headers=headers),
        client.post(f"{BASE}/orders/{2**70}/refund", headers=headers, json={"refund_id": "r"}),
    ]
    for response in refused:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        assert "detail" in response.json()
    assert client.get(f"{BASE}/profiles/987654321", headers=headers).status_code == 404
    missing_order = client.post(
        f"{BASE}/orders/987654321/refund", headers=headers, json={"refund_id": "r"}
    )
    assert missing_order.status_code == 404
    assert _counts(session, tenant) == before
    assert_ledger_consistent(session, tenant)
