"""The campaign builder's form values and how they become the campaign's content, A/B test
and schedule (and back). Pure functions: the builder state calls them, the services validate
the result."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from marketing_app.domain.campaigns import VARIANT_KEYS, ABTest, CampaignContent, Schedule
from marketing_app.domain.errors import InvalidInput
from marketing_app.services.email_rendering_checks import validate_template

LOCAL_DAY_ANCHOR = time(12)  # a local-time send keeps only the date of send_at


@dataclasses.dataclass
class VariantForm:
    key: str = "A"
    subject: str = ""
    preheader: str = ""
    html: str = ""
    from_name: str = ""
    send_delay_hours: str = "0"


def variants_from_content(content: CampaignContent) -> list[VariantForm]:
    return [
        VariantForm(
            key=v.key,
            subject=v.subject,
            preheader=v.preheader,
            html=v.html,
            from_name=v.from_name,
            send_delay_hours=str(v.send_delay_hours),
        )
        for v in content.variants
    ]


def _hours(value: str, label: str) -> int:
    try:
        return int(value.strip() or "0")
    except ValueError:
        raise InvalidInput(f"{label} must be a whole number of hours.", field="content") from None


def content_from_variants(variants: list[VariantForm], ab_enabled: bool) -> dict[str, Any]:
    """Without an A/B test only the first variant is sent, so only it is kept."""
    kept = variants if ab_enabled else variants[:1]
    return {
        "variants": [
            {
                "key": v.key if ab_enabled else "A",
                "subject": v.subject,
                "preheader": v.preheader,
                "html": v.html,
                "from_name": v.from_name if ab_enabled else "",
                "send_delay_hours": _hours(v.send_delay_hours, f"Variant {v.key}'s delay")
                if ab_enabled
                else 0,
            }
            for v in kept
        ]
    }


def next_variant_key(variants: list[VariantForm]) -> str | None:
    used = {v.key for v in variants}
    return next((key for key in VARIANT_KEYS if key not in used), None)


def broken_content(variants: list[VariantForm], ab_enabled: bool) -> str:
    """The first syntax error or unknown token of any variant, by line ("" when none).

    A draft may still be empty; what it holds must be valid before it is saved."""
    kept = variants if ab_enabled else variants[:1]
    for variant in kept:
        fields = {"subject": variant.subject, "preheader": variant.preheader, "html": variant.html}
        problems = validate_template(**fields)
        for problem in problems:
            if fields[problem.field].strip():
                prefix = f"Variant {variant.key}: " if ab_enabled else ""
                return f"{prefix}{problem.field} line {problem.line}: {problem.message}"
    return ""


def ab_from_form(enabled: bool, test_percent: str, metric: str, wait_hours: str) -> dict:
    try:
        percent, wait = int(test_percent), int(wait_hours)
    except ValueError:
        raise InvalidInput(
            "The test share and the wait must be whole numbers.", field="ab_test"
        ) from None
    return {"enabled": enabled, "test_percent": percent, "metric": metric, "wait_hours": wait}


def ab_to_form(ab: ABTest) -> dict[str, Any]:
    return {
        "ab_enabled": ab.enabled,
        "test_percent": str(ab.test_percent),
        "metric": ab.metric,
        "wait_hours": str(ab.wait_hours),
    }


def schedule_from_form(
    mode: str, send_at: str, send_date: str, local_time: str, optimize: bool, zone: str
) -> dict[str, Any]:
    """The form's local date and time (the tenant's zone) as the stored UTC schedule."""
    found: dict[str, Any] = {"mode": mode, "optimize": optimize and mode != "local"}
    try:
        if mode == "at":
            if not send_at:
                raise InvalidInput("Choose the date and time to send at.", field="schedule")
            local = datetime.fromisoformat(send_at).replace(tzinfo=ZoneInfo(zone))
            found["send_at"] = local.astimezone(UTC).isoformat()
        elif mode == "local":
            if not send_date or not local_time:
                raise InvalidInput(
                    "Choose the day and the local time to send at.", field="schedule"
                )
            day = date.fromisoformat(send_date)
            found["send_at"] = datetime.combine(day, LOCAL_DAY_ANCHOR, tzinfo=UTC).isoformat()
            found["local_time"] = time.fromisoformat(local_time).isoformat(timespec="minutes")
    except ValueError:
        raise InvalidInput("That date or time is not valid.", field="schedule") from None
    return found


def schedule_to_form(schedule: Schedule, zone: str) -> dict[str, Any]:
    form = {
        "schedule_mode": schedule.mode,
        "send_at": "",
        "send_date": "",
        "local_time": "09:00",
        "optimize": schedule.optimize,
    }
    if schedule.send_at is not None and schedule.mode == "at":
        local = schedule.send_at.astimezone(ZoneInfo(zone))
        form["send_at"] = local.strftime("%Y-%m-%dT%H:%M")
    if schedule.send_at is not None and schedule.mode == "local":
        form["send_date"] = schedule.send_at.date().isoformat()
        form["local_time"] = (schedule.local_time or time(9)).strftime("%H:%M")
    return form


def describe_schedule(schedule: Schedule, zone: str) -> str:
    """The schedule in words, in the tenant's time zone."""
    if schedule.mode == "now" or schedule.send_at is None:
        words = "As soon as it is sent"
    elif schedule.mode == "at":
        local = schedule.send_at.astimezone(ZoneInfo(zone))
        words = f"At {local.strftime('%Y-%m-%d %H:%M')} ({zone})"
    else:
        at = (schedule.local_time or time(9)).strftime("%H:%M")
        words = f"At {at} in each customer's time zone on {schedule.send_at.date().isoformat()}"
    return words + (", each customer at their best hour" if schedule.optimize else "")
