"""A fake NinjaOne public API v2 on a loopback port, built from NinjaOne's API documentation
(OAuth token configuration; the v2 reference of organizations, devices, device scripting and
device custom fields):

- `POST /ws/oauth/token` (form): `grant_type=client_credentials` with the app's client id
  and secret answers `{access_token, token_type: "Bearer", expires_in, scope}`; a wrong pair
  400 `{error: "invalid_client"}`; a scope without `control` cannot run scripts (403 later).
- Every `/v2/` call needs `Authorization: Bearer {token}`, else 401 `{resultCode:
  "UNAUTHORIZED", errorMessage}`.
- `GET /v2/organizations`, `GET /v2/devices?df=org={id}&pageSize=&after=` (cursor paging by
  device id), `POST /v2/device/{id}/script/run` `{type, id, parameters, runAs}` (204; 404 for
  an unknown device or script), `GET /v2/device/{id}/custom-fields`.
- 429 with Retry-After and 5xx outages on demand (`fail`).

The runner script is not run: when a job "finishes" (after `outcome.polls` reads of the
custom fields), the fake writes the result the runner would write into the output field.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.rmm.fake_base import FakeServer, Request, decode_script

_RUN = re.compile(r"^/v2/device/(\d+)/script/run$")
_FIELDS = re.compile(r"^/v2/device/(\d+)/custom-fields$")
_PARAMS = re.compile(
    r"^-Run '(?P<run>[^']+)' -TimeoutSeconds (?P<t>\d+) -EncodedCommand (?P<b64>[A-Za-z0-9+/=]+)$"
)


@dataclass
class FakeNinjaOne(FakeServer):
    client_id: str = "n1-client-AbC123"
    client_secret: str = "n1-secret-XyZ789"
    runner_script_id: int = 77
    output_field: str = "branchlineResult"
    devices: list[dict[str, Any]] = field(default_factory=list)
    scripts_run: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tokens: set[str] = set()
        self.fields: dict[int, dict[str, Any]] = {}
        self.running: dict[int, dict[str, Any]] = {}
        if not self.devices:
            self.devices = [
                {
                    "id": 1000 + i,
                    "systemName": f"CTX-VDA-{i:02d}",
                    "organizationId": 1 + i % 2,
                    "offline": False,
                }
                for i in range(1, 131)
            ]

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "instance_url": self.url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "runner_script_id": self.runner_script_id,
            "output_field": self.output_field,
            **extra,
        }

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.path == "/ws/oauth/token":
            return self._token(req.body or {})
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, {"resultCode": "UNAUTHORIZED", "errorMessage": "Invalid or expired token"}, {}
        if req.method == "GET" and req.path == "/v2/organizations":
            return (
                200,
                [{"id": 1, "name": "Contoso"}, {"id": 2, "name": "Fabrikam"}][
                    : int(req.query.get("pageSize", 100))
                ],
                {},
            )
        if req.method == "GET" and req.path == "/v2/devices":
            return 200, self._devices(req.query), {}
        m = _RUN.match(req.path)
        if m and req.method == "POST":
            return self._run(int(m.group(1)), req.body or {})
        m = _FIELDS.match(req.path)
        if m and req.method == "GET":
            return self._fields(int(m.group(1)))
        return 404, {"resultCode": "NOT_FOUND", "errorMessage": f"No route {req.method} {req.path}"}, {}

    def _token(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 400, {"error": "invalid_client", "error_description": "Bad client credentials"}, {}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return (
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": form.get("scope")},
            {},
        )

    def _devices(self, query: dict[str, str]) -> list[dict[str, Any]]:
        rows = sorted(self.devices, key=lambda d: d["id"])
        df = query.get("df", "")
        if df.startswith("org="):
            rows = [d for d in rows if str(d["organizationId"]) == df[4:]]
        after = int(query.get("after", 0))
        rows = [d for d in rows if d["id"] > after]
        return rows[: min(int(query.get("pageSize", 50)), 1000)]

    def _run(self, device_id: int, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if not any(d["id"] == device_id for d in self.devices):
            return (
                404,
                {"resultCode": "DEVICE_NOT_FOUND", "errorMessage": f"Device {device_id} not found"},
                {},
            )
        if body.get("type") != "SCRIPT" or body.get("id") != self.runner_script_id:
            return 404, {"resultCode": "SCRIPT_NOT_FOUND", "errorMessage": "Script not found"}, {}
        m = _PARAMS.match(str(body.get("parameters") or ""))
        if m is None:
            return 400, {"resultCode": "BAD_REQUEST", "errorMessage": "parameters do not fit the runner"}, {}
        run = {
            "device_id": device_id,
            "marker": m.group("run"),
            "timeout": int(m.group("t")),
            "script": decode_script(m.group("b64")),
            "run_as": body.get("runAs"),
            "outcome": self.outcome,
            "reads": 0,
        }
        self.scripts_run.append(run)
        self.running[device_id] = run
        return 204, None, {}

    def _fields(self, device_id: int) -> tuple[int, Any, dict[str, str]]:
        run = self.running.get(device_id)
        if run is not None:
            run["reads"] += 1
            polls = run["outcome"].polls
            if polls is not None and run["reads"] >= polls:
                result = {
                    "run": run["marker"],
                    "exit_code": run["outcome"].exit_code,
                    "output": run["outcome"].output,
                }
                self.fields.setdefault(device_id, {})[self.output_field] = json.dumps(result)
                del self.running[device_id]
        return 200, dict(self.fields.get(device_id, {})), {}
