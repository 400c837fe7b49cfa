"""Email templates: CRUD refusing invalid templates, built-ins, previews and test emails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from marketing_app.domain.email_templates import InvalidTemplate
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, EmailTemplate, Location, StaffMember
from marketing_app.services import email_templates as templates
from marketing_app.services.email_builtin import BUILTIN_TEMPLATES
from marketing_app.services.email_rendering import SAMPLE_RECIPIENT, compile_email
from marketing_app.services.email_templates import TemplateFields
from marketing_app.services.email_tokens import TEST_MESSAGE_ID, message_token

HTML = "<html><body><p>Hi {{ first_name | default('there') }}</p>\n<a href='https://x.example/a'>Go</a></body></html>"


def _create(session, tenant, name="Spring news", **fields):
    template = templates.create_template(
        session=session,
        tenant_id=tenant.id,
        name=name,
        subject=fields.pop("subject", "Spring at {{ tenant_name }}"),
        preheader=fields.pop("preheader", "New this week"),
        html=fields.pop("html", HTML),
        **fields,
    )
    session.commit()
    return template


def _stored(session, tenant):
    return session.exec(select(EmailTemplate).where(EmailTemplate.tenant_id == tenant.id)).all()


def test_create_update_list_and_delete(session, tenant):
    template = _create(session, tenant)
    assert (template.name, template.subject) == ("Spring news", "Spring at {{ tenant_name }}")
    templates.update_template(
        session=session,
        tenant_id=tenant.id,
        template_id=template.id,
        name="Spring specials",
        html="<p>Hello {{ first_name }}</p>",
    )
    session.commit()
    again = templates.get_template(session=session, tenant_id=tenant.id, template_id=template.id)
    assert again.name == "Spring specials" and again.html == "<p>Hello {{ first_name }}</p>"
    assert again.subject == "Spring at {{ tenant_name }}"  # untouched fields kept
    _create(session, tenant, name="Autumn")
    found, total = templates.list_templates(session=session, tenant_id=tenant.id, search="spring")
    assert total == 1 and [t.name for t in found] == ["Spring specials"]
    templates.delete_template(session=session, tenant_id=tenant.id, template_id=template.id)
    session.commit()
    assert [t.name for t in _stored(session, tenant)] == ["Autumn"]


def test_an_invalid_template_is_refused_with_every_problem_and_nothing_is_stored(session, tenant):
    with pytest.raises(InvalidTemplate) as refused:
        _create(session, tenant, subject="Hi {{ frist_name }}", html="<p>ok</p>\n{% if x %}")
    problems = {(p.field, p.line) for p in refused.value.problems}
    assert problems == {("subject", 1), ("html", 2)}
    assert refused.value.http_status == 422 and "frist_name" in refused.value.message
    assert _stored(session, tenant) == []


def test_a_refused_update_changes_nothing(session, tenant):
    template = _create(session, tenant)
    with pytest.raises(InvalidTemplate):
        templates.update_template(
            session=session,
            tenant_id=tenant.id,
            template_id=template.id,
            name="New name",
            html="<p>{{ ''.__class__ }}</p>",
        )
    session.rollback()
    stored = templates.get_template(session=session, tenant_id=tenant.id, template_id=template.id)
    assert (stored.name, stored.html) == ("Spring news", HTML)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Bad\x00name"}, "name"),
        ({"html": "<p>\x00</p>"}, "html"),
        ({"subject": ""}, "subject"),
        ({"html": "<p>" + "x" * 500_001 + "</p>"}, "html"),
    ],
)
def test_bad_input_is_refused_naming_the_field(session, tenant, fields, field):
    with pytest.raises(InvalidInput) as refused:
        _create(session, tenant, **fields)
    assert refused.value.field == field
    assert _stored(session, tenant) == []


def test_names_are_unique_per_tenant_ignoring_case(session, tenant, other_tenant):
    _create(session, tenant, name="Weekly")
    with pytest.raises(Conflict):
        _create(session, tenant, name="weekly")
    _create(session, other_tenant, name="Weekly")  # another tenant may use it


def test_every_built_in_is_valid_and_renders_with_sample_data():
    assert len(BUILTIN_TEMPLATES) == 10
    for key, builtin in BUILTIN_TEMPLATES.items():
        compiled = compile_email(
            subject=builtin.subject,
            preheader=builtin.preheader,
            html=builtin.html,
            tenant_name="Sample Shop",
            postal_address="1 Main St",
        )
        rendered = compiled.render(SAMPLE_RECIPIENT, message_token(uuid.uuid4(), 1))
        assert "{{" not in rendered.html + rendered.text + rendered.subject, key
        assert "1 Main St" in rendered.html and "@media only screen" in rendered.html, key
        assert compiled.links and compiled.substitution_form() is not None, key
        assert rendered.text.strip() and "<" not in rendered.text, key


def test_a_template_made_from_a_built_in_copies_it(session, tenant):
    made = templates.create_template(
        session=session, tenant_id=tenant.id, name="Our birthday email", builtin_key="birthday"
    )
    assert made.builtin_key == "birthday"
    assert (made.subject, made.html) == (
        BUILTIN_TEMPLATES["birthday"].subject,
        BUILTIN_TEMPLATES["birthday"].html,
    )
    with pytest.raises(NotFound):
        templates.create_template(
            session=session, tenant_id=tenant.id, name="Nope", builtin_key="no_such"
        )


def _customer(session, tenant):
    store = Location(tenant_id=tenant.id, name="Uptown", city="Charlotte")
    rep = StaffMember(tenant_id=tenant.id, name="Rae Jones", role="sales_rep")
    session.add_all([store, rep])
    session.flush()
    contact = Contact(
        tenant_id=tenant.id,
        email="maya@example.com",
        first_name="Maya",
        location_id=store.id,
        staff_id=rep.id,
        traits={"favorite": "Pinot Noir"},
        last_order_at=datetime(2025, 6, 2, 16, 0, tzinfo=UTC),
    )
    session.add(contact)
    session.commit()
    return contact


def test_preview_with_a_chosen_customer_or_sample_data(session, tenant):
    tenant.postal_address = "9 Elm St, Durham, NC"
    session.commit()
    contact = _customer(session, tenant)
    fields = TemplateFields(
        subject="For {{ first_name }}",
        preheader="",
        html="<p>{{ traits.favorite }} at {{ store }} ({{ city }}), rep {{ rep_name }}, "
        "last order {{ last_order_date }}</p>",
    )
    shown = templates.preview_template(
        session=session, tenant_id=tenant.id, fields=fields, contact_id=contact.id
    )
    assert shown.subject == "For Maya"
    assert "Pinot Noir at Uptown (Charlotte), rep Rae Jones, last order June 2, 2025" in shown.html
    assert "9 Elm St, Durham, NC" in shown.html
    assert message_token(tenant.id, TEST_MESSAGE_ID) in shown.html  # links record nothing
    sample = templates.preview_template(session=session, tenant_id=tenant.id, fields=fields)
    assert sample.subject == f"For {SAMPLE_RECIPIENT.first_name}"


def test_preview_of_a_saved_template_and_a_test_email(session, tenant):
    template = _create(session, tenant)
    shown = templates.preview_template(
        session=session, tenant_id=tenant.id, template_id=template.id
    )
    assert shown.subject == f"Spring at {tenant.name}" and "Hi Jordan" in shown.html
    test = templates.test_email(
        session=session, tenant_id=tenant.id, to_address="me@example.com", template_id=template.id
    )
    assert test.subject == f"[Test] Spring at {tenant.name}" and test.html == shown.html
    with pytest.raises(InvalidInput) as refused:
        templates.test_email(
            session=session,
            tenant_id=tenant.id,
            to_address="not-an-address",
            template_id=template.id,
        )
    assert refused.value.field == "to_address"


def test_tenants_never_see_each_others_templates_or_customers(session, tenant, other_tenant):
    mine = _create(session, tenant, name="Mine")
    _create(session, other_tenant, name="Theirs")
    their_customer = _customer(session, other_tenant)
    found, total = templates.list_templates(session=session, tenant_id=tenant.id)
    assert total == 1 and [t.name for t in found] == ["Mine"]
    for call in (
        lambda: templates.get_template(
            session=session, tenant_id=other_tenant.id, template_id=mine.id
        ),
        lambda: templates.update_template(
            session=session, tenant_id=other_tenant.id, template_id=mine.id, name="Stolen"
        ),
        lambda: templates.delete_template(
            session=session, tenant_id=other_tenant.id, template_id=mine.id
        ),
        lambda: templates.preview_template(
            session=session, tenant_id=other_tenant.id, template_id=mine.id
        ),
        lambda: templates.preview_template(
            session=session, tenant_id=tenant.id, template_id=mine.id, contact_id=their_customer.id
        ),
    ):
        with pytest.raises(NotFound):
            call()
    session.rollback()
    assert (
        templates.get_template(session=session, tenant_id=tenant.id, template_id=mine.id).name
        == "Mine"
    )
