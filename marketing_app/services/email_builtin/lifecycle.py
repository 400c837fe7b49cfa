"""Built-in lifecycle emails: welcome, thanks, check-ins, birthdays and win-backs."""

from __future__ import annotations

from marketing_app.services.email_builtin.layout import BuiltinTemplate, button, highlight, page

SHOP = "https://www.example.com"

WELCOME = BuiltinTemplate(
    key="welcome",
    name="Welcome",
    description="Greet a new customer, say what to expect and point to the shop.",
    subject="Welcome to {{ tenant_name }}, {{ first_name | default('friend') }}!",
    preheader="We're glad you're here. Here's what to expect from us.",
    html=page(
        "Welcome",
        '<h1>Welcome, {{ first_name | default("friend") }}!</h1>\n'
        "<p>Thank you for joining {{ tenant_name }}. We will send you our specials, new "
        "arrivals and invitations to events: never more than once a week.</p>\n"
        + highlight(
            '<p style="margin:0"><strong>Your store:</strong> '
            "{{ store | default(tenant_name) }}<br><strong>Your contact:</strong> "
            "{{ rep_name | default('our team') }}</p>"
        )
        + "\n"
        + button("Start shopping", f"{SHOP}/shop")
        + '\n<p class="muted">Reply to this email any time: a real person reads it.</p>',
    ),
)

THANK_YOU = BuiltinTemplate(
    key="thank_you_order",
    name="Thank You for Your Order",
    description="Thank a customer after an order and invite a review.",
    subject="Thank you for your order, {{ first_name | default('friend') }}!",
    preheader="We appreciate your business. Tell us how we did.",
    html=page(
        "Thank you",
        '<h1>Thank you, {{ first_name | default("friend") }}!</h1>\n'
        "<p>We appreciate your order from {{ store | default(tenant_name) }}"
        "{{ (' on ' ~ last_order_date) if last_order_date else '' }}. It means a lot to a "
        "business like ours.</p>\n"
        "<p>Could you spare a minute to tell us how we did? Your feedback helps us choose what "
        "to stock next.</p>\n" + button("Leave a review", f"{SHOP}/review") + '\n<p class="muted">'
        "Questions about your order? Just reply to this email.</p>",
    ),
)

CHECK_IN = BuiltinTemplate(
    key="customer_check_in",
    name="Customer Check-in",
    description="A personal note from the customer's rep, with their territory and last order.",
    subject="Checking in, {{ first_name | default('there') }}",
    preheader="A quick note from {{ rep_name | default(tenant_name) }}.",
    html=page(
        "Checking in",
        '<p>Hi {{ first_name | default("there") }},</p>\n'
        "<p>I wanted to check in and see how everything is going at "
        "{{ customer_name | default('your place') }}. Your last order with us was "
        "{{ last_order_date | default('a little while ago') }}, so I thought it was a good "
        "time to say hello.</p>\n"
        "<p>If you need to restock, want to try something new, or just have a question, I am "
        "a reply away.</p>\n"
        + button("Book a call", f"{SHOP}/book")
        + '\n<p>Best,<br>{{ rep_name | default("The team") }}<br><span class="muted">'
        "{{ tenant_name }}{{ (', ' ~ territory) if territory else '' }}</span></p>",
        accent="#0f766e",
    ),
)

BIRTHDAY = BuiltinTemplate(
    key="birthday",
    name="Birthday",
    description="A birthday greeting with a gift code valid for the month.",
    subject="Happy birthday, {{ first_name | default('friend') }}! A gift inside",
    preheader="Celebrate with a little something from all of us.",
    html=page(
        "Happy birthday",
        '<h1>Happy birthday, {{ first_name | default("friend") }}!</h1>\n'
        "<p>Everyone at {{ tenant_name }} wishes you a wonderful day. Here is a gift to "
        "celebrate: 15% off one order this month.</p>\n"
        + highlight('<p style="margin:0">Your code: <span class="code">BDAY15</span></p>')
        + "\n"
        + button("Treat yourself", f"{SHOP}/birthday")
        + '\n<p class="muted">Valid for 30 days, once per customer, on regular-priced items.</p>',
        accent="#be185d",
    ),
)

WIN_BACK = BuiltinTemplate(
    key="win_back",
    name="Win-back",
    description="Bring back customers who have not ordered in a while, with an offer.",
    subject="We miss you, {{ first_name | default('friend') }}",
    preheader="It's been a while. Here's 20% off to welcome you back.",
    html=page(
        "We miss you",
        '<h1>We miss you, {{ first_name | default("friend") }}</h1>\n'
        "<p>It has been a while since we last saw you"
        "{{ (' (your last order was ' ~ last_order_date ~ ')') if last_order_date else '' }}. "
        "A lot has changed: new products, new favourites and the same friendly team.</p>\n"
        + highlight(
            '<p style="margin:0">Come back for <strong>20% off</strong> your next order with '
            'code <span class="code">COMEBACK20</span></p>'
        )
        + "\n"
        + button("See what's new", f"{SHOP}/new")
        + '\n<p class="muted">Offer ends in 14 days.</p>',
        accent="#b45309",
    ),
)

TEMPLATES = [WELCOME, THANK_YOU, CHECK_IN, BIRTHDAY, WIN_BACK]
