"""The shapes of the three demo businesses: names, places and people, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Marcus",
    "Aaliyah",
    "Darnell",
    "Keisha",
    "Tyrone",
    "Imani",
    "Carlos",
    "Sofia",
    "Luis",
    "Valeria",
    "Wei",
    "Mei",
    "Raj",
    "Priya",
    "Tanner",
    "Brooke",
    "Cody",
    "Hannah",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "Mitchell",
    "Perez",
]


@dataclass(frozen=True)
class BusinessProfile:
    """How one kind of business looks: where it sells, who sells, what a purchase costs."""

    kind: str
    locations: list[tuple[str, str, str]]  # (name, city, region)
    location_kind: str
    staff_role: str
    staff_names: list[str]
    customers: int  # at scale 1.0
    orders_per_customer_year: float
    order_cents_range: tuple[int, int]
    event_names: list[str]
    traits: dict[str, list[str]] = field(default_factory=dict)


DISPENSARY = BusinessProfile(
    kind="dispensary",
    locations=[
        ("Charlotte - Monroe Road", "Charlotte", "NC"),
        ("Blowing Rock", "Blowing Rock", "NC"),
        ("North Charlotte / University", "Charlotte", "NC"),
        ("Salisbury", "Salisbury", "NC"),
        ("Elizabethton", "Elizabethton", "TN"),
    ],
    location_kind="store",
    staff_role="budtender",
    staff_names=["Ava Reed", "Jalen Brooks", "Mia Torres", "Noah Price", "Zoe Hart", "Eli Grant"],
    customers=3000,
    orders_per_customer_year=6.0,
    order_cents_range=(1500, 18000),
    event_names=["Product Viewed", "Product Added", "Menu Viewed", "Order Completed"],
    traits={"account_type": ["recreational", "medical"], "priority": ["standard", "vip"]},
)

WINE = BusinessProfile(
    kind="wine",
    locations=[
        ("Triangle", "Raleigh", "NC"),
        ("Triad", "Greensboro", "NC"),
        ("Metrolina", "Charlotte", "NC"),
        ("Coastal", "Wilmington", "NC"),
        ("Upstate", "Greenville", "SC"),
    ],
    location_kind="territory",
    staff_role="sales_rep",
    staff_names=["Grace Whitfield", "Owen Castillo", "Lena Park", "Victor Osei", "Ruth Delgado"],
    customers=800,
    orders_per_customer_year=10.0,
    order_cents_range=(25000, 480000),
    event_names=["Catalog Viewed", "Sample Requested", "Order Completed"],
    traits={
        "account_type": ["restaurant", "bottle shop", "hotel", "grocery"],
        "priority": ["A", "B", "C"],
        "equity_status": ["none", "minority-owned", "women-owned"],
    },
)

BARBERSHOP = BusinessProfile(
    kind="barbershop",
    locations=[("Main Street Shop", "Asheville", "NC"), ("West End Shop", "Asheville", "NC")],
    location_kind="shop",
    staff_role="barber",
    staff_names=["Dre Collins", "Manny Ortiz", "Sam Whitaker", "Kofi Mensah", "Rico Alvarez"],
    customers=1200,
    orders_per_customer_year=8.0,
    order_cents_range=(2500, 6500),
    event_names=["Booking Viewed", "Appointment Booked", "Appointment Completed"],
    traits={"preferred_service": ["fade", "beard trim", "cut & shave", "kids cut"]},
)

PROFILES = {p.kind: p for p in (DISPENSARY, WINE, BARBERSHOP)}
