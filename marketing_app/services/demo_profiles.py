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
class Product:
    """One line of the catalog; `weight` is how often it lands in a basket, relative."""

    sku: str
    name: str
    category: str
    price_cents: int
    weight: int = 1


@dataclass(frozen=True)
class BusinessProfile:
    """How one kind of business looks: where it sells, who sells, what it sells and mails."""

    kind: str
    locations: list[tuple[str, str, str]]  # (name, city, region)
    location_kind: str
    staff_role: str
    staff_names: list[str]
    customers: int  # at scale 1.0
    orders_per_customer_year: float
    catalog: list[Product]
    max_lines: int  # distinct products in one order, at most
    max_quantity: int  # units of one product in one order, at most
    event_names: list[str]
    email_campaigns: list[str]  # one every ~2 weeks over the last 120 days, oldest first
    sms_campaigns: list[str]
    traits: dict[str, list[str]] = field(default_factory=dict)


P = Product


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
    catalog=[
        P("DSP-FL-BD35", "Blue Dream 3.5g", "flower", 3500, 4),
        P("DSP-FL-GC35", "Gelato Cake 3.5g", "flower", 4000, 3),
        P("DSP-FL-OG35", "OG Kush 3.5g", "flower", 3800, 2),
        P("DSP-FL-WC7", "Wedding Cake 7g", "flower", 6500, 1),
        P("DSP-FL-SD14", "Sour Diesel 14g", "flower", 11000, 1),
        P("DSP-PR-BD1", "Blue Dream Pre-Roll 1g", "pre-rolls", 1200, 3),
        P("DSP-PR-IH5", "House Indica Pre-Rolls 5-Pack", "pre-rolls", 3000, 2),
        P("DSP-ED-WG10", "Watermelon Gummies 10-Pack", "edibles", 2200, 3),
        P("DSP-ED-DC100", "Dark Chocolate Bar 100mg", "edibles", 2500, 2),
        P("DSP-ED-SG10", "Sleep Gummies with CBN 10-Pack", "edibles", 2800, 1),
        P("DSP-VP-PE1", "Pineapple Express Cartridge 1g", "vapes", 4500, 2),
        P("DSP-VP-GP05", "Granddaddy Purple Disposable 0.5g", "vapes", 3000, 2),
        P("DSP-CN-LR1", "Live Rosin 1g", "concentrates", 6000, 1),
        P("DSP-CN-SH1", "Shatter 1g", "concentrates", 3500, 1),
    ],
    max_lines=3,
    max_quantity=2,
    event_names=["Product Viewed", "Product Added", "Menu Viewed", "Order Completed"],
    email_campaigns=[
        "Weekly Specials",
        "New Strain Drop: Gelato Cake",
        "Edibles Week",
        "Weekly Specials",
        "Vape Savings Event",
        "Double Loyalty Points Weekend",
        "Pre-Roll Fridays",
        "Weekly Specials",
    ],
    sms_campaigns=["Flash Sale Today Only", "Happy Hour 4-6pm", "Weekend Deals Inside"],
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
    catalog=[  # distributor pricing per case of 12
        P("WIN-RD-CS21", "Alexander Valley Cabernet Sauvignon 2021", "red", 26400, 3),
        P("WIN-RD-PN22", "Willamette Valley Pinot Noir 2022", "red", 30000, 2),
        P("WIN-RD-MB22", "Mendoza Malbec 2022", "red", 15600, 3),
        P("WIN-RD-CC20", "Chianti Classico 2020", "red", 21600, 2),
        P("WIN-WH-SB23", "Marlborough Sauvignon Blanc 2023", "white", 16800, 3),
        P("WIN-WH-CH22", "Sonoma Coast Chardonnay 2022", "white", 22800, 2),
        P("WIN-WH-PG23", "Alto Adige Pinot Grigio 2023", "white", 14400, 2),
        P("WIN-SP-PRNV", "Prosecco DOC Brut", "sparkling", 13200, 3),
        P("WIN-SP-CHNV", "Champagne Brut NV", "sparkling", 54000, 1),
        P("WIN-SP-CVNV", "Cava Brut Reserva", "sparkling", 12000, 1),
        P("WIN-RS-PV23", "Côtes de Provence Rosé 2023", "rosé", 19200, 2),
        P("WIN-RS-SC23", "Sancerre Rosé 2023", "rosé", 27600, 1),
    ],
    max_lines=5,
    max_quantity=4,
    event_names=["Catalog Viewed", "Sample Requested", "Order Completed"],
    email_campaigns=[
        "New Arrivals: Spring Portfolio",
        "Rosé Season Pre-Order",
        "Staff Picks for Restaurant Lists",
        "Distributor Pricing Update",
        "Winemaker Dinner Invitation",
        "Summer Whites Tasting",
        "Closeout Bin Ends",
        "Holiday Sparkling Allocation",
    ],
    sms_campaigns=["Allocation Closing Tonight", "Trade Tasting Tomorrow", "Order Cutoff Reminder"],
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
    catalog=[
        P("BRB-SV-FADE", "Skin Fade", "services", 3500, 5),
        P("BRB-SV-CUT", "Classic Cut", "services", 3000, 4),
        P("BRB-SV-BRD", "Beard Trim", "services", 2000, 3),
        P("BRB-SV-KIDS", "Kids Cut", "services", 2200, 2),
        P("BRB-SV-SHAVE", "Hot Towel Shave", "services", 3500, 1),
        P("BRB-SV-LINE", "Line-Up", "services", 1500, 1),
        P("BRB-RT-POM", "Matte Pomade", "retail", 2200, 1),
        P("BRB-RT-OIL", "Cedar Beard Oil", "retail", 1800, 1),
        P("BRB-RT-SHMP", "Tea Tree Shampoo", "retail", 1600, 1),
    ],
    max_lines=2,
    max_quantity=1,
    event_names=["Booking Viewed", "Appointment Booked", "Appointment Completed"],
    email_campaigns=[
        "Book Your Next Cut",
        "Beard Care Month",
        "Meet Our New Barber",
        "Back-to-School Cuts",
        "Pomade Restock",
        "Refer a Friend, Get $10",
        "Book Your Next Cut",
        "Holiday Hours and Gift Cards",
    ],
    sms_campaigns=["Open Chairs Today", "Walk-Ins Welcome Till 7", "Last-Minute Saturday Slots"],
    traits={"preferred_service": ["fade", "beard trim", "cut & shave", "kids cut"]},
)

PROFILES = {p.kind: p for p in (DISPENSARY, WINE, BARBERSHOP)}
