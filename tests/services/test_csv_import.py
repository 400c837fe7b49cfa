"""CSV import: creates and updates profiles, dedupes, and reports every refused row."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketing_app.domain.errors import InvalidInput
from marketing_app.models import Contact, JobRun, JobStatus
from marketing_app.services.csv_import import start_customer_import
from marketing_app.services.job_execution import run_job
from marketing_app.services.profiles import save_profile

CSV = (
    "Email,Phone,First_Name,Last_Name,Birthday,Territory,Email_Consent\n"
    "ann@example.com,(704) 555-0101,Ann,Lee,1990-04-02,Triad,yes\n"
    "bob@example.com,,Bob,,not-a-date,Coastal,\n"
    "not-an-email,,Cy,,,,\n"
    "ANN@example.com,,Annie,,,Metrolina,\n"
    "old@example.com,,Olga,,,,\n"
    ",,Nobody,,,,\n"
)


def run_import(session, tenant, content: bytes) -> JobRun:
    job = start_customer_import(
        session=session, tenant_id=tenant.id, filename="customers.csv", content=content
    )
    session.commit()
    run_job(session=session, job_id=job.id)
    session.expire_all()
    return session.get(JobRun, job.id)


def test_import_creates_updates_dedupes_and_reports_bad_rows(session, tenant, other_tenant):
    save_profile(
        session=session,
        tenant_id=tenant.id,
        contact_id=None,
        fields={"email": "old@example.com", "first_name": "O"},
    )
    session.commit()
    job = run_import(session, tenant, CSV.encode())
    assert job.status == JobStatus.SUCCEEDED
    report = job.result
    assert (report["created"], report["updated"], report["rejected_count"]) == (1, 2, 3)
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (3, "birthday must be YYYY-MM-DD"),
        (4, "Enter a valid email address."),
        (7, "A customer needs an email, a phone or a user id."),
    ]
    people = {
        c.email: c for c in session.exec(select(Contact).where(Contact.tenant_id == tenant.id))
    }
    ann = people["ann@example.com"]
    assert (ann.first_name, ann.last_name, ann.phone) == ("Annie", "Lee", "+17045550101")
    assert ann.traits == {"territory": "Metrolina"}
    assert (ann.email_consent, ann.email_consent_source) == (True, "import")
    assert people["old@example.com"].first_name == "Olga"
    assert session.exec(select(Contact).where(Contact.tenant_id == other_tenant.id)).all() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,city\nAnn,Boone\n", "email, phone or user_id"),
    ],
)
def test_unusable_files_are_refused_before_any_work(session, tenant, content, message):
    with pytest.raises(InvalidInput, match=message):
        start_customer_import(
            session=session, tenant_id=tenant.id, filename="x.csv", content=content
        )


def test_windows_latin1_files_import(session, tenant):
    job = run_import(
        session, tenant, "email,first_name\nrene@example.com,Ren\xe9\n".encode("latin-1")
    )
    assert job.result["created"] == 1
    assert (
        session.exec(select(Contact.first_name).where(Contact.tenant_id == tenant.id)).one()
        == "René"
    )


def test_a_row_with_a_nul_character_is_refused_alone(session, tenant):
    content = b"email,first_name\nok@example.com,Ok\nnul@example.com,N\x00ul\n"
    job = run_import(session, tenant, content)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["created"], job.result["rejected_count"]) == (1, 1)
    assert "NUL" in job.result["rejected"][0]["reason"]
