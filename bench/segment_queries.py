"""Segmentation benchmark: the two segments and their hand-written equivalents on raw tables.

  A "spent over $500 in 90 days AND no order in 60 days AND opened an email in 30 days"
  B "custom.account_type = medical AND performed Product Viewed at least 3 times in 30 days"

The hand-written SQL takes %(t)s (tenant), %(d30)s, %(d60)s and %(d90)s; scoped with
BATCH_SCOPE it also takes %(ids)s, the profiles of a folded batch.
"""

from __future__ import annotations

from marketing_app.services.rfm import GRID

SEGMENT_A = {
    "root": {
        "kind": "group",
        "op": "and",
        "children": [
            {
                "kind": "orders",
                "metric": "total_spent",
                "op": "gt",
                "value": 500,
                "within_days": 90,
            },
            {"kind": "no_order_in", "days": 60},
            {"kind": "engagement", "action": "opened", "channel": "email", "within_days": 30},
        ],
    }
}
SEGMENT_B = {
    "root": {
        "kind": "group",
        "op": "and",
        "children": [
            {"kind": "trait", "field": "custom.account_type", "op": "eq", "value": "medical"},
            {
                "kind": "event",
                "name": "Product Viewed",
                "count_op": "at_least",
                "count": 3,
                "within_days": 30,
            },
        ],
    }
}

BATCH_SCOPE = "AND {} = ANY(%(ids)s)"  # the hand-written queries limited to a folded batch


def hand_a(scope: str = "") -> str:
    """An order in the last 60 days is also in the 90-day window: "none" is a max() test."""
    return f"""
SELECT o.contact_id FROM orders o
WHERE o.tenant_id = %(t)s AND o.placed_at >= %(d90)s AND o.contact_id IS NOT NULL
  {scope.format("o.contact_id")}
GROUP BY o.contact_id
HAVING sum(o.total_cents) > 50000 AND max(o.placed_at) < %(d60)s
INTERSECT
SELECT e.contact_id FROM events e
WHERE e.tenant_id = %(t)s AND e.name = 'Email Opened' AND e.occurred_at >= %(d30)s
  AND e.contact_id IS NOT NULL
  AND coalesce(e.properties ->> 'machine_open', '') <> 'true' {scope.format("e.contact_id")}
"""


def hand_b(scope: str = "") -> str:
    return f"""
SELECT c.id FROM contacts c
WHERE c.tenant_id = %(t)s AND lower(c.traits ->> 'account_type') = 'medical'
  {scope.format("c.id")}
  AND c.id IN (
    SELECT e.contact_id FROM events e
    WHERE e.tenant_id = %(t)s AND e.name = 'Product Viewed' AND e.occurred_at >= %(d30)s
      AND e.contact_id IS NOT NULL {scope.format("e.contact_id")}
    GROUP BY e.contact_id HAVING count(*) >= 3)
"""


HAND_RFM_ROWS = """
SELECT id AS contact_id,
  (5 * count(*) OVER (ORDER BY last_order_at) + count(*) OVER () - 1) / count(*) OVER () AS r,
  (5 * count(*) OVER (ORDER BY order_count) + count(*) OVER () - 1) / count(*) OVER () AS f,
  (5 * count(*) OVER (ORDER BY total_spent_cents) + count(*) OVER () - 1)
    / count(*) OVER () AS m
FROM contacts
WHERE tenant_id = %(t)s AND order_count > 0 AND last_order_at IS NOT NULL
"""


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


RFM_CASE = " ".join(
    f"WHEN r = {r} AND (f + m + 1) / 2 BETWEEN {low} AND {high} THEN {_sql_string(name)}"
    for r, low, high, name in GRID
)
HAND_RFM = f"""
SELECT CASE {RFM_CASE} ELSE 'Needs Attention' END AS grp, count(*)
FROM ({HAND_RFM_ROWS}) s GROUP BY 1
"""
