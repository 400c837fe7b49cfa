"""Smart-list presets and RFM scoring, on the suite's database and on SQLite."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.errors import InvalidInput
from marketing_app.domain.segment_definition import RFM_GROUPS
from marketing_app.models import Contact
from marketing_app.services import rfm, segments
from marketing_app.services.segment_oracle import evaluate, load_profile_facts
from marketing_app.services.segment_presets import PRESETS, preset_definition
from marketing_app.services.segment_sql import members_query
from tests.factories import make_tenant
from tests.segment_world import NOW, build_world, sqlite_session


@pytest.fixture(params=["suite", "sqlite"])
def db(request, session):
    return session if request.param == "suite" else sqlite_session()


@pytest.fixture
def world(db):
    tenant = make_tenant(db)
    ids = build_world(db, tenant.id, seed=11, size=60)
    contacts = db.exec(select(Contact).where(Contact.tenant_id == tenant.id)).all()
    for n, contact in enumerate(contacts):  # traits the account type / priority presets read
        contact.traits = {
            **contact.traits,
            "account_type": ["medical", "Recreational"][n % 2],
            "priority": "vip" if n % 5 == 0 else "standard",
        }
        db.add(contact)
    db.commit()
    return tenant.id, ids


PARAMS = {
    "location": lambda ids: {"location": ids["location_ids"][0]},
    "sales_rep": lambda ids: {"staff": ids["staff_ids"][1]},
    "high_value": lambda ids: {"amount": 500},
    "ordered_product": lambda ids: {"product": "blue dream"},
    "lapsed": lambda ids: {"days": 60},
    "account_type": lambda ids: {"account_type": "MEDICAL"},
    "priority": lambda ids: {"priority": "vip"},
}
# Presets whose world has no member by construction (no profile created this month).
MAY_BE_EMPTY = {"new_this_month", "birthday_next_7_days"}


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_selects_what_it_says(db, world, preset):
    tenant_id, ids = world
    definition = preset_definition(preset.key, PARAMS.get(preset.key, lambda _: {})(ids))
    parsed = segments.validate_definition(session=db, tenant_id=tenant_id, raw=definition)
    ctx = segments.compile_context(db, tenant_id, NOW)
    found = set(db.exec(members_query(parsed, ctx)).all())
    facts = load_profile_facts(db, tenant_id)
    assert found == {cid for cid, f in facts.items() if evaluate(parsed, f, NOW)}
    if preset.key not in MAY_BE_EMPTY:
        assert 0 < len(found) < len(facts), preset.key


def test_preset_results_in_plain_words(db, world):
    tenant_id, _ = world
    facts = load_profile_facts(db, tenant_id)
    parsed = segments.parse_definition(preset_definition("vip"))
    vips = [f for f in facts.values() if evaluate(parsed, f, NOW)]
    spenders = sorted(
        (f.contact["total_spent_cents"] for f in facts.values() if f.contact["order_count"] > 0),
        reverse=True,
    )
    assert min(f.contact["total_spent_cents"] for f in vips) >= spenders[len(spenders) // 10]
    lapsed = segments.parse_definition(preset_definition("lapsed", {"days": 60}))
    for f in facts.values():
        if evaluate(lapsed, f, NOW):
            assert f.orders and all(o[0] < NOW - timedelta(days=60) for o in f.orders)


def test_preset_parameters_are_checked():
    with pytest.raises(InvalidInput, match="required"):
        preset_definition("high_value", {"amount": ""})
    with pytest.raises(InvalidInput, match="whole number"):
        preset_definition("lapsed", {"days": 0.5})
    with pytest.raises(InvalidInput, match="Unknown preset"):
        preset_definition("everyone-ever")


def test_every_rfm_grid_cell_has_exactly_one_group():
    cells = {
        (r, f, m): rfm.group_for(r, f, m)
        for r in range(1, 6)
        for f in range(1, 6)
        for m in range(1, 6)
    }
    assert set(cells.values()) == set(RFM_GROUPS)
    assert cells[(5, 5, 5)] == "Champions" and cells[(1, 1, 1)] == "Lost"
    assert cells[(1, 5, 5)] == "Can't Lose Them" and cells[(5, 1, 1)] == "New"


def _contact(db, tenant_id, n, days_ago, orders, cents):
    contact = Contact(
        tenant_id=tenant_id,
        email=f"rfm{n}@example.com",
        order_count=orders,
        total_spent_cents=cents,
        last_order_at=NOW - timedelta(days=days_ago),
    )
    db.add(contact)
    return contact


def _scores(db, tenant_id) -> dict[int, tuple]:
    bounds = rfm.load_boundaries(db, tenant_id)
    contacts = db.exec(select(Contact).where(Contact.tenant_id == tenant_id)).all()
    return {c.id: rfm.scores_of(c.model_dump(), bounds) for c in contacts}


def _quintiles(values: list) -> list[int]:
    """The definition: ceil(5 * customers at or below / customers), in plain Python."""
    return [math.ceil(5 * sum(w <= v for w in values) / len(values)) for v in values]


def test_rfm_scores_small_tenants_and_ties_share_a_score(db):
    tenant = make_tenant(db)
    best = _contact(db, tenant.id, 1, 2, 9, 90000)
    worst = _contact(db, tenant.id, 2, 300, 1, 1000)
    twin_a = _contact(db, tenant.id, 3, 40, 3, 5000)
    twin_b = _contact(db, tenant.id, 4, 40, 3, 5000)
    never = Contact(tenant_id=tenant.id, email="never@example.com")
    db.add(never)
    db.commit()
    assert rfm.compute_rfm(session=db, tenant_id=tenant.id, now=NOW) == 4
    scores = _scores(db, tenant.id)
    assert scores[never.id] is None
    assert scores[best.id] == (5, 5, 5) and rfm.group_for(*scores[best.id]) == "Champions"
    assert scores[worst.id][0] == scores[worst.id][2] == 2
    assert rfm.group_for(*scores[worst.id]) == "Hibernating"
    assert scores[twin_a.id] == scores[twin_b.id] and scores[twin_a.id][:2] == (4, 4)
    summary = {
        row["group"]: row["customers"] for row in rfm.rfm_summary(session=db, tenant_id=tenant.id)
    }
    assert sum(summary.values()) == 4 and summary["Champions"] == 1
    assert rfm.last_computed(session=db, tenant_id=tenant.id) == NOW


def test_rfm_boundaries_reproduce_the_quintile_definition(db):
    tenant = make_tenant(db)
    rng = random.Random(5)
    people = [
        _contact(
            db,
            tenant.id,
            n,
            rng.choice([1, 5, 5, 30, 90, 200, 400]),
            rng.randint(1, 7),
            rng.choice([500, 2500, 2500, 10000, 99900]),
        )
        for n in range(37)
    ]
    db.commit()
    rfm.compute_rfm(session=db, tenant_id=tenant.id, now=NOW)
    scores = _scores(db, tenant.id)
    expected = zip(
        _quintiles([p.last_order_at for p in people]),
        _quintiles([p.order_count for p in people]),
        _quintiles([p.total_spent_cents for p in people]),
        strict=True,
    )
    assert [scores[p.id] for p in people] == list(expected)


def test_rfm_follows_changed_facts_and_feeds_segments(db):
    tenant = make_tenant(db)
    other = make_tenant(db)
    people = [_contact(db, tenant.id, n, 10 * n + 1, n + 1, 1000 * (n + 1)) for n in range(10)]
    _contact(db, other.id, 99, 1, 50, 10**7)
    db.commit()
    rfm.compute_rfm(session=db, tenant_id=tenant.id, now=NOW)
    people[9].order_count, people[9].total_spent_cents = 0, 0  # refunded away
    people[0].last_order_at = NOW - timedelta(days=900)
    db.add_all(people)
    db.commit()
    scores = _scores(db, tenant.id)  # current facts, boundaries from the last compute
    assert scores[people[9].id] is None and scores[people[0].id][0] == 1
    groups = sorted({rfm.group_for(*scores[p.id]) for p in people[1:3]})
    champions = {"root": {"children": [{"kind": "rfm", "groups": groups}]}}
    estimate = segments.estimate(session=db, tenant_id=tenant.id, definition=champions, now=NOW)
    expected = sum(1 for s in scores.values() if s and rfm.group_for(*s) in groups)
    assert estimate.count == expected > 0
    assert segments.estimate(session=db, tenant_id=other.id, definition=champions).count == 0
