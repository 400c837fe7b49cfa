"""Fake Postmark: `POST /email/batch` (up to 500) and `GET /server`, by server token.

Each message gets its own result, as Postmark answers: ErrorCode 0 with a MessageID, 300
for a `To` that is not an address, 406 for an address in `data.inactive`. Accepted
messages are in `data.messages`.
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

MAX_BATCH = 500


@dataclass
class PostmarkData:
    server_token: str = "pm-server-token-0123456789"
    inactive: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _result(message: dict[str, Any], data: PostmarkData) -> dict[str, Any]:
    to = str(message.get("To", ""))
    if "@" not in to:
        return {"ErrorCode": 300, "Message": "Invalid 'To' address: '" + to + "'."}
    if to in data.inactive:
        return {"ErrorCode": 406, "Message": "You tried to send to recipient(s) marked inactive."}
    data.messages.append(message)
    return {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": to}


def build_app(data: PostmarkData) -> Starlette:
    async def batch(request: Request) -> Response:
        messages = json.loads(await request.body())
        if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_BATCH:
            message = "The batch must hold between 1 and 500 messages."
            return JSONResponse({"ErrorCode": 300, "Message": message}, 422)
        return JSONResponse([_result(message, data) for message in messages])

    async def server(request: Request) -> Response:
        return JSONResponse({"ID": 1, "Name": "Fake server", "DeliveryType": "Live"})

    return Starlette(
        routes=[
            Route("/email/batch", batch, methods=["POST"]),
            Route("/server", server, methods=["GET"]),
        ]
    )


class FakePostmark(FakeProviderServer):
    def __init__(self, data: PostmarkData | None = None, simulation: Simulation | None = None):
        self.data = data or PostmarkData()
        super().__init__(
            build_app(self.data),
            simulation or Simulation(),
            lambda headers: headers.get("x-postmark-server-token") == self.data.server_token,
        )
