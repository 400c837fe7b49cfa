"""Fake Resend: `POST /emails/batch` (up to 100, permissive validation) and `GET /domains`.

An email whose `to` is not an address is refused by index (`errors: [{index, message}]`)
when the request asks for permissive validation, and refuses the whole batch (422)
otherwise. A key starting `re_sendonly` is a sending-only key: `GET /domains` answers it
401 `restricted_api_key`, as Resend does. Accepted emails are in `data.emails`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeProviderServer, Simulation

MAX_BATCH = 100


@dataclass
class ResendData:
    api_keys: set[str] = field(default_factory=lambda: {"re_test_0123456789"})
    emails: list[dict[str, Any]] = field(default_factory=list)


def build_app(data: ResendData) -> Starlette:
    async def batch(request: Request) -> Response:
        emails = json.loads(await request.body())
        if not isinstance(emails, list) or not 1 <= len(emails) <= MAX_BATCH:
            message = "The batch must hold between 1 and 100 emails."
            return JSONResponse({"name": "validation_error", "message": message}, 422)
        errors = [
            {"index": index, "message": "Invalid `to` field."}
            for index, email in enumerate(emails)
            if "@" not in str((email.get("to") or [""])[0])
        ]
        permissive = request.headers.get("x-batch-validation") == "permissive"
        if errors and not permissive:
            return JSONResponse({"name": "validation_error", "message": errors[0]["message"]}, 422)
        bad = {error["index"] for error in errors}
        accepted = [email for index, email in enumerate(emails) if index not in bad]
        data.emails.extend(accepted)
        ids = [{"id": str(uuid.uuid4())} for _ in accepted]
        return JSONResponse({"data": ids, **({"errors": errors} if permissive else {})})

    async def domains(request: Request) -> Response:
        if request.headers.get("authorization", "").startswith("Bearer re_sendonly"):
            message = "This API key is restricted to only send emails"
            return JSONResponse({"name": "restricted_api_key", "message": message}, 401)
        return JSONResponse({"data": [{"name": "shop.example", "status": "verified"}]})

    return Starlette(
        routes=[
            Route("/emails/batch", batch, methods=["POST"]),
            Route("/domains", domains, methods=["GET"]),
        ]
    )


class FakeResend(FakeProviderServer):
    def __init__(self, data: ResendData | None = None, simulation: Simulation | None = None):
        self.data = data or ResendData()
        keys = self.data.api_keys
        super().__init__(
            build_app(self.data),
            simulation or Simulation(),
            lambda headers: headers.get("authorization", "").removeprefix("Bearer ") in keys,
        )
