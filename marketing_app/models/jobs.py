"""Job runs: a due-time row per unit of background work, with its progress.

The row is written in the same transaction as the business change; the beat tick claims
due rows and enqueues them, so a crash between commit and enqueue loses nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary
from sqlmodel import Field, SQLModel

from marketing_app.models.base import new_id, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time
    ENQUEUED = "enqueued"  # claimed by the tick and handed to Celery
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_status_due", "status", "due_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: uuid.UUID | None = Field(
        default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE"
    )
    kind: str = Field(max_length=60)
    label: str = Field(default="", max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=JobStatus.PENDING, max_length=20)
    due_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    total: int = 0
    done: int = 0
    message: str = Field(default="", max_length=500)
    error: str = Field(default="", max_length=2000)
    # What the job produced that a page shows afterwards (an import's rejected rows, ...).
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class UploadedFile(SQLModel, table=True):
    """A file handed to a job (a CSV import), kept in the database so any worker can read it."""

    __tablename__ = "uploaded_files"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow)
