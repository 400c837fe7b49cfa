"""A progress bar for any job run, fed by the job's progress row."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

STATUS_COLORS = {"succeeded": "green", "failed": "red", "running": "blue"}


def job_progress_bar(job: Var) -> rx.Component:
    """`job` is a dict with label, status, percent, done, total, message and error."""
    return rx.vstack(
        rx.hstack(
            rx.text(job["label"], weight="medium", size="2"),
            rx.spacer(),
            rx.badge(
                job["status"],
                color_scheme=rx.match(
                    job["status"],
                    ("succeeded", "green"),
                    ("failed", "red"),
                    ("running", "blue"),
                    "gray",
                ),
            ),
            width="100%",
        ),
        rx.progress(value=job["percent"].to(int), max=100, width="100%"),
        rx.text(
            rx.cond(job["error"] != "", job["error"], job["message"]),
            size="1",
            color_scheme=rx.cond(job["error"] != "", "red", "gray"),
        ),
        width="100%",
        spacing="1",
        class_name="job-progress",
    )
