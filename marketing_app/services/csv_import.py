"""CSV import of customers: dedupe against existing profiles, report every refused row.

Known columns fill profile fields; any other column becomes a custom trait. A row matches an
existing profile by user_id, email or phone (in that order) and updates it; otherwise it
creates one. A bad row is reported with its line number and loses nothing else.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, select

from marketing_app.domain.errors import DomainError, InvalidInput
from marketing_app.models import ContactIdentity, JobRun, UploadedFile
from marketing_app.models.base import utcnow
from marketing_app.services.event_processing import apply_consent
from marketing_app.services.identity import normalize_email, normalize_phone
from marketing_app.services.job_runs import create_job_run
from marketing_app.services.profiles import get_profile, save_profile

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_REPORTED_REJECTIONS = 500  # the rest are counted, not listed
COMMIT_EVERY = 500  # rows; also how often progress is reported
FIELD_COLUMNS = {"email", "phone", "first_name", "last_name", "birthday", "user_id"}
CONSENT_COLUMNS = {"email_consent", "sms_consent"}
ProgressCallback = Callable[[int, int, str], None]


def start_customer_import(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    filename: str,
    content: bytes,
    list_id: int | None = None,
) -> JobRun:
    """Keep the file and create its job (born claimed: enqueue it after commit).

    With `list_id` every imported profile is also added to that static list.
    """
    if not content.strip():
        raise InvalidInput("The file is empty.", field="file")
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput(
            f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.", field="file"
        )
    header = _decode(content).splitlines()[0].lower()
    if not any(column in header for column in ("email", "phone", "user_id")):
        raise InvalidInput(
            "The first line must name the columns, including email, phone or user_id.", field="file"
        )
    upload = UploadedFile(tenant_id=tenant_id, filename=filename[:255], content=content)
    session.add(upload)
    session.flush()
    return create_job_run(
        session=session,
        tenant_id=tenant_id,
        kind="csv_import",
        label=f"Import {filename[:150]}",
        params={"file_id": str(upload.id), **({"list_id": list_id} if list_id else {})},
        enqueue_now=True,
    )


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")  # spreadsheets exported on Windows


def _existing_contact(session: Session, tenant_id: uuid.UUID, row: dict[str, str]) -> int | None:
    keys = [
        ("user_id", row.get("user_id") or None),
        ("email", normalize_email(row.get("email"))),
        ("phone", normalize_phone(row.get("phone"))),
    ]
    for kind, value in keys:
        if value:
            found = session.exec(
                select(ContactIdentity.contact_id).where(
                    ContactIdentity.tenant_id == tenant_id,
                    ContactIdentity.kind == kind,
                    ContactIdentity.value == value,
                )
            ).first()
            if found is not None:
                return found
    return None


def _row_fields(row: dict[str, str]) -> dict:
    fields: dict = {k: v.strip() for k, v in row.items() if k in FIELD_COLUMNS and v and v.strip()}
    if "birthday" in fields:
        try:
            fields["birthday"] = date.fromisoformat(fields["birthday"])
        except ValueError as exc:
            raise InvalidInput("birthday must be YYYY-MM-DD", field="birthday") from exc
    traits = {
        k: v.strip()
        for k, v in row.items()
        if k and k not in FIELD_COLUMNS | CONSENT_COLUMNS and v and v.strip()
    }
    if traits:
        fields["traits"] = traits
    return fields


def import_row(session: Session, tenant_id: uuid.UUID, row: dict[str, str]) -> tuple[int, bool]:
    """Create or update one profile from a row: (its id, whether it is new). Raises DomainError."""
    if any("\x00" in (value or "") for value in row.values() if isinstance(value, str)):
        raise InvalidInput("The row holds a NUL character, which cannot be stored.")
    contact_id = _existing_contact(session, tenant_id, row)
    fields = _row_fields(row)
    if contact_id is not None and "traits" in fields:
        current = get_profile(session=session, tenant_id=tenant_id, contact_id=contact_id)
        fields["traits"] = {**(current.traits or {}), **fields["traits"]}
    contact = save_profile(
        session=session, tenant_id=tenant_id, contact_id=contact_id, fields=fields
    )
    consent = {k: row[k] for k in CONSENT_COLUMNS if row.get(k, "").strip()}
    if consent:
        apply_consent(contact, consent, utcnow(), source="import")
        session.add(contact)
    return contact.id, contact_id is None


def run_customer_import(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    file_id: uuid.UUID,
    progress: ProgressCallback,
    on_profile: Callable[[int], None] | None = None,
) -> dict:
    """Import every row; returns the report kept on the job (counts and refused rows)."""
    upload = session.get(UploadedFile, file_id)
    if upload is None or upload.tenant_id != tenant_id:
        raise InvalidInput("The uploaded file is gone.")
    reader = csv.DictReader(io.StringIO(_decode(upload.content)))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    rows = list(reader)
    report = {"created": 0, "updated": 0, "rejected_count": 0, "rejected": []}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            with session.begin_nested():
                contact_id, created = import_row(session, tenant_id, row)
                if on_profile is not None:
                    on_profile(contact_id)
            report["created" if created else "updated"] += 1
        except DomainError as exc:
            report["rejected_count"] += 1
            if len(report["rejected"]) < MAX_REPORTED_REJECTIONS:
                report["rejected"].append(
                    {"line": number, "reason": exc.message, "email": (row.get("email") or "")[:100]}
                )
        if number % COMMIT_EVERY == 0:
            progress(number - 1, len(rows), f"{number - 1} of {len(rows)} rows")
    session.delete(upload)
    progress(len(rows), len(rows), "Import finished")
    return report
