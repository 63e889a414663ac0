"""NinjaOne (NinjaRMM) through its public API v2, following NinjaOne's API documentation
("Public API operations", the OAuth token configuration page, and the device, organization,
scripting and custom-field operations of the v2 reference):

- Sign-in: OAuth 2.0 client credentials, `POST {instance}/ws/oauth/token` with
  `grant_type=client_credentials`, `client_id`, `client_secret` and `scope=monitoring
  management control` (control is the scope that runs scripts), form-encoded; the answer's
  `access_token` goes in `Authorization: Bearer`, for `expires_in` seconds.
- Check: `GET /v2/organizations?pageSize=1`.
- Devices: `GET /v2/devices?df=org={organizationId}&pageSize=&after=` (device filter syntax;
  pages follow with `after` = the last id of the previous page, until a short page).
- Run: `POST /v2/device/{id}/script/run` with `{type: "SCRIPT", id: runner_script_id,
  parameters, runAs}`. NinjaOne runs scripts from its library only, so `id` is the Branchline
  runner the admin added (README); `parameters` carries the run's marker and the rendered
  script as `-EncodedCommand` Base64. The call answers no job id.
- Result and output: NinjaOne's API gives no script output, and the run answers no job id,
  so the runner writes `{"run": marker, "exit_code": n, "output": "..."}` into a device
  custom field (`Ninja-Property-Set`, the documented way scripts report data) and Branchline
  reads it with `GET /v2/device/{id}/custom-fields`. A field that names another run means
  this one has not finished.

Errors: 401/403 credentials or scope, 404 unknown device or script, 429 throttling with
Retry-After, 5xx outages; bodies `{resultCode, errorMessage}` (read for the reason).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

from ..webhooks.ssrf import Resolver
from . import oauth
from .connector import Device, JobRequest, JobState, RmmError, encoded_command
from .transport import classify, send

VENDOR = "NinjaOne"
SCOPE = "monitoring management control"
PAGE = 100


@dataclass(frozen=True)
class Credentials:
    instance_url: str  # https://app.ninjarmm.com, https://eu.ninjarmm.com, ...
    client_id: str
    client_secret: str


class NinjaOne(oauth.BearerApi):
    vendor = VENDOR
    system = "ninjaone"

    def __init__(
        self,
        creds: Credentials,
        client: httpx.Client,
        *,
        runner_script_id: int,
        output_field: str,
        run_as: str,
        allow_private: bool,
        resolver: Resolver,
    ) -> None:
        self.creds = creds
        self.client = client
        self.runner_script_id = runner_script_id
        self.output_field = output_field
        self.run_as = run_as
        self.allow_private = allow_private
        self.resolver = resolver
        material = f"{creds.instance_url}\n{creds.client_id}\n{creds.client_secret}"
        self._key = "ninjaone:" + hashlib.sha256(material.encode()).hexdigest()

    def _token(self) -> tuple[str, float]:
        r = send(
            self.client,
            "POST",
            f"{self.creds.instance_url}/ws/oauth/token",
            headers={"accept": "application/json"},
            data={
                "grant_type": "client_credentials",
                "client_id": self.creds.client_id,
                "client_secret": self.creds.client_secret,
                "scope": SCOPE,
            },
            allow_private=self.allow_private,
            resolver=self.resolver,
            vendor=VENDOR,
        )
        if r.status_code in (400, 401):
            raise RmmError(
                "auth",
                f"{VENDOR} refused the client id and secret ({r.status_code}); the API client app must allow "
                "the client credentials grant with the Monitoring, Management and Control scopes.",
                status=r.status_code,
            )
        if r.status_code != 200:
            raise classify(r, VENDOR, "token request")
        body = r.json()
        return str(body["access_token"]), float(body.get("expires_in") or 3600)

    def _url(self, path: str) -> str:
        return f"{self.creds.instance_url}/v2/{path}"

    def check(self) -> dict[str, Any]:
        self._call("GET", "organizations", what="organization list", params={"pageSize": 1})
        return {"instance_url": self.creds.instance_url}

    def devices(self, organization: str | None, query: str | None) -> list[Device]:
        out: list[Device] = []
        after: int | None = None
        while True:
            params: dict[str, Any] = {"pageSize": PAGE}
            if organization:
                params["df"] = f"org={organization}"
            if after is not None:
                params["after"] = after
            page = self._call("GET", "devices", what="device list", params=params).json()
            for d in page:
                name = str(d.get("displayName") or d.get("systemName") or d.get("id"))
                if query and query.lower() not in name.lower():
                    continue
                out.append(
                    Device(str(d["id"]), name, str(d.get("organizationId")), not bool(d.get("offline")))
                )
            if len(page) < PAGE:
                return out
            after = int(page[-1]["id"])

    def submit(self, device_id: str, job: JobRequest) -> str:
        body = {
            "type": "SCRIPT",
            "id": self.runner_script_id,
            "parameters": f"-Run '{job.marker}' -TimeoutSeconds {job.timeout_seconds} "
            f"-EncodedCommand {encoded_command(job.script_text)}",
            "runAs": self.run_as,
        }
        self._call("POST", f"device/{device_id}/script/run", what="script run", json_body=body, changes=True)
        return job.marker  # NinjaOne answers no job id: the marker finds the result

    def _result(self, device_id: str) -> dict[str, Any] | None:
        fields = self._call("GET", f"device/{device_id}/custom-fields", what="device").json()
        raw = fields.get(self.output_field) if isinstance(fields, dict) else None
        if not isinstance(raw, str):
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def find(self, device_id: str, marker: str) -> str | None:
        result = self._result(device_id)
        if result is not None and result.get("run") == marker:
            return marker
        raise RmmError(
            "in_doubt",
            f"{VENDOR} may have started this run (its answer was lost) and shows no result for it yet; "
            "Branchline did not start it again. Look at the device's activities in NinjaOne.",
        )

    def state(self, device_id: str, ref: str) -> JobState:
        result = self._result(device_id)
        if result is None or result.get("run") != ref:
            return JobState(done=False, succeeded=None, exit_code=None)
        code = result.get("exit_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        return JobState(done=True, succeeded=code == 0, exit_code=code)

    def output(self, device_id: str, ref: str, limit: int) -> bytes:
        result = self._result(device_id)
        if result is None or result.get("run") != ref:
            return b""
        return str(result.get("output") or "").encode()[: limit + 1]
