"""Built-in promotional emails: specials, new products, tastings, VIPs and referrals."""

from __future__ import annotations

from marketing_app.services.email_builtin.layout import (
    BuiltinTemplate,
    button,
    card,
    highlight,
    page,
    two_columns,
)

SHOP = "https://www.example.com"
# (link, link label) of the cards
_STAFF_PICK = (f"{SHOP}/specials/staff-pick", "See the deal")
_BUNDLE = (f"{SHOP}/specials/bundle", "Build a bundle")
_RESTOCKED = (f"{SHOP}/specials/restocked", "Shop now")
_CLEARANCE = (f"{SHOP}/specials/clearance", "Browse clearance")
_SHARE = (f"{SHOP}/refer", "Get your link")
_TERMS = (f"{SHOP}/refer/terms", "How it works")

WEEKLY_SPECIALS = BuiltinTemplate(
    key="weekly_specials",
    name="Weekly Specials",
    description="This week's deals in a two-column grid with a button to shop them all.",
    subject="This week's specials at {{ tenant_name }}",
    preheader='{{ first_name | default("Friend") }}, fresh deals are in: this week only.',
    html=page(
        "This week's specials",
        '<h1>This week\'s specials</h1>\n<p>Hi {{ first_name | default("there") }},</p>\n'
        "<p>Here is what is on special this week. Prices hold until Sunday or while stock "
        "lasts.</p>\n"
        + two_columns(
            card("Staff pick", "Our team's favourite, 20% off all week.", *_STAFF_PICK),
            card("Bundle and save", "Buy two, get the third at half price.", *_BUNDLE),
        )
        + "\n"
        + two_columns(
            card("Just restocked", "Back by popular demand, in limited numbers.", *_RESTOCKED),
            card("Clearance", "Last units of the season, up to 40% off.", *_CLEARANCE),
        )
        + "\n<p>&nbsp;</p>\n"
        + button("Shop all specials", f"{SHOP}/specials")
        + '\n<p class="muted">See you at {{ store | default(tenant_name) }}!</p>',
    ),
)

NEW_PRODUCT = BuiltinTemplate(
    key="new_product",
    name="New Product Announcement",
    description="Introduce one new product with an image, three selling points and a button.",
    subject="New at {{ tenant_name }}: meet our latest arrival",
    preheader="Be among the first to try it, {{ first_name | default('friend') }}.",
    html=page(
        "Our latest arrival",
        '<img src="https://www.example.com/images/new-product.jpg" width="536" alt="Our new '
        'product" style="display:block;width:100%;max-width:536px;height:auto;margin:0 0 24px">\n'
        "<h1>Say hello to our latest arrival</h1>\n"
        '<p>Hi {{ first_name | default("there") }}, something new just landed and we think you '
        "will love it.</p>\n"
        + highlight(
            "<p><strong>Why it is special</strong></p>\n"
            "<ul><li>Made in small batches</li><li>Available in limited numbers</li>"
            "<li>Ask {{ rep_name | default('our team') }} about pairings</li></ul>"
        )
        + "\n"
        + button("Discover it", f"{SHOP}/new")
        + '\n<p class="muted">In stock now at {{ store | default(tenant_name) }}.</p>',
    ),
)

TASTING_INVITATION = BuiltinTemplate(
    key="tasting_invitation",
    name="Tasting Invitation",
    description="Invite customers to an in-store tasting with date, place and an RSVP button.",
    subject="You're invited: a tasting at {{ tenant_name }}",
    preheader="Join us, {{ first_name | default('friend') }}: tastes, talks and a few surprises.",
    html=page(
        "You're invited",
        "<h1>You're invited to a tasting</h1>\n"
        '<p>Hi {{ first_name | default("there") }},</p>\n'
        "<p>We are opening a few of our favourites and would love for you to join us. Come "
        "taste, ask questions and meet the team.</p>\n"
        + highlight(
            "<p><strong>When:</strong> Saturday, 2 to 5 pm<br>"
            "<strong>Where:</strong> {{ store | default(tenant_name) }}"
            "{{ (', ' ~ city) if city else '' }}<br>"
            "<strong>Your host:</strong> {{ rep_name | default('our team') }}</p>"
        )
        + "\n"
        + button("RSVP now", f"{SHOP}/events/tasting")
        + '\n<p class="muted">Places are limited; RSVP so we save you a seat.</p>',
        accent="#7c2d12",
    ),
)

VIP = BuiltinTemplate(
    key="vip",
    name="VIP",
    description="Thank your best customers with early access and their loyalty standing.",
    subject="{{ first_name | default('You') }}, you're one of our VIPs",
    preheader="Early access and a little something extra, just for you.",
    html=page(
        "You're a VIP",
        "<h1>Thank you for being a VIP</h1>\n"
        '<p>Hi {{ first_name | default("there") }},</p>\n'
        "<p>You are one of our most valued customers, so you get first access to new arrivals "
        "and members-only offers before anyone else.</p>\n"
        + highlight(
            '<p style="margin:0">Your tier: <strong>{{ loyalty_tier | default("VIP") }}'
            "</strong><br>Your points: <strong>{{ loyalty_points | default(0) }}</strong></p>"
        )
        + "\n"
        + button("Shop early access", f"{SHOP}/vip")
        + '\n<p class="muted">Questions? {{ rep_name | default("Our team") }} is happy to '
        "help.</p>",
        accent="#6d28d9",
    ),
)

REFERRAL = BuiltinTemplate(
    key="referral",
    name="Referral",
    description="Ask happy customers to refer a friend, with the reward for both.",
    subject="Share {{ tenant_name }} with a friend and you both get a reward",
    preheader="Give $10, get $10 when a friend makes their first order.",
    html=page(
        "Refer a friend",
        "<h1>Give $10, get $10</h1>\n"
        '<p>Hi {{ first_name | default("there") }},</p>\n'
        "<p>Know someone who would love {{ tenant_name }}? Send them our way: they get $10 off "
        "their first order, and you get $10 when they place it.</p>\n"
        + two_columns(
            card("1. Share", "Send your friends the link below.", *_SHARE),
            card("2. Get rewarded", "Your $10 arrives after their first order.", *_TERMS),
        )
        + "\n<p>&nbsp;</p>\n"
        + button("Refer a friend", f"{SHOP}/refer"),
        accent="#1d4ed8",
    ),
)

TEMPLATES = [WEEKLY_SPECIALS, NEW_PRODUCT, TASTING_INVITATION, VIP, REFERRAL]
