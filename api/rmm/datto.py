"""Datto RMM through its REST API v2, following Datto's documentation ("Datto RMM API" in the
Datto RMM help: enabling the API, API keys, OAuth 2.0 tokens, the 600-requests-a-minute
limit) and the API's Swagger reference (`{api_url}/api/swagger-ui/index.html`):

- Sign-in: `POST {api_url}/auth/oauth/token` with HTTP Basic `public-client:public` and the
  form `grant_type=password&username={API key}&password={API secret key}`; the answer's
  `access_token` (valid 100 hours) goes in `Authorization: Bearer`.
- Check: `GET /api/v2/account`.
- Devices: `GET /api/v2/site/{siteUid}/devices` (or `/api/v2/account/devices`) with `page`
  and `max`; each page's `pageDetails.nextPageUrl` is null on the last one.
- Run: `PUT /api/v2/device/{deviceUid}/quickjob` with `{jobName, jobComponent:
  {componentUid, variables: [{name, value}]}}` answers the job (`job.uid`). Datto RMM runs
  components from the account's library only, never text sent with the job: the component is
  the Branchline runner the admin imported (README), and the rendered script travels as its
  `BranchlineScript` variable (Base64 for `-EncodedCommand`).
- State: `GET /api/v2/job/{jobUid}` (`status`: active / completed) and, once completed,
  `GET /api/v2/job/{jobUid}/results/{deviceUid}` (`componentResults[].componentStatus`).
  Datto does not report a script's exit code, only success or failure: `exit_code` stays
  empty unless the runner printed one.
- Output: `GET /api/v2/job/{jobUid}/results/{deviceUid}/stdout` (`[{stdData}]`).

The API offers no search of jobs by name, so a submit whose answer was lost cannot be
matched to its job: `find` says so (`in_doubt`) and the run is not submitted again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import httpx

from ..webhooks.ssrf import Resolver
from . import oauth
from .connector import Device, JobRequest, JobState, RmmError, encoded_command
from .transport import classify, send

VENDOR = "Datto RMM"
PAGE = 250
_EXIT = re.compile(r"^BRANCHLINE_EXIT_CODE=(-?[0-9]{1,10})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Credentials:
    api_url: str  # https://{platform}-api.centrastage.net
    api_key: str
    api_secret: str


class Datto(oauth.BearerApi):
    vendor = VENDOR
    system = "datto"

    def __init__(
        self,
        creds: Credentials,
        client: httpx.Client,
        *,
        component_uid: str,
        allow_private: bool,
        resolver: Resolver,
    ) -> None:
        self.creds = creds
        self.client = client
        self.component_uid = component_uid
        self.allow_private = allow_private
        self.resolver = resolver
        material = f"{creds.api_url}\n{creds.api_key}\n{creds.api_secret}"
        self._key = "datto:" + hashlib.sha256(material.encode()).hexdigest()

    def _token(self) -> tuple[str, float]:
        r = send(
            self.client,
            "POST",
            f"{self.creds.api_url}/auth/oauth/token",
            headers={"authorization": "Basic cHVibGljLWNsaWVudDpwdWJsaWM=", "accept": "application/json"},
            data={
                "grant_type": "password",
                "username": self.creds.api_key,
                "password": self.creds.api_secret,
            },
            allow_private=self.allow_private,
            resolver=self.resolver,
            vendor=VENDOR,
        )
        if r.status_code in (400, 401):
            raise RmmError(
                "auth",
                f"{VENDOR} refused the API key and secret ({r.status_code}); generate them under "
                "Setup > Users "
                "and check that API access is enabled (Setup > Global Settings > Access Control).",
                status=r.status_code,
            )
        if r.status_code != 200:
            raise classify(r, VENDOR, "token request")
        body = r.json()
        return str(body["access_token"]), float(body.get("expires_in") or 360_000)

    def _url(self, path: str) -> str:
        return f"{self.creds.api_url}/api/v2/{path}"

    def check(self) -> dict[str, Any]:
        account = self._call("GET", "account", what="account").json()
        return {"account": account.get("name") if isinstance(account, dict) else None}

    def devices(self, organization: str | None, query: str | None) -> list[Device]:
        path = f"site/{organization}/devices" if organization else "account/devices"
        out: list[Device] = []
        page = 0
        while True:
            body = self._call("GET", path, what="device list", params={"page": page, "max": PAGE}).json()
            for d in body.get("devices") or []:
                name = str(d.get("hostname") or d.get("uid"))
                if query and query.lower() not in name.lower():
                    continue
                out.append(
                    Device(str(d["uid"]), name, d.get("siteUid") or d.get("siteName"), d.get("online"))
                )
            if not (body.get("pageDetails") or {}).get("nextPageUrl"):
                return out
            page += 1

    def submit(self, device_id: str, job: JobRequest) -> str:
        body = {
            "jobName": f"{job.script_name[:150]} {job.marker}",
            "jobComponent": {
                "componentUid": self.component_uid,
                "variables": [
                    {"name": "BranchlineScript", "value": encoded_command(job.script_text)},
                    {"name": "BranchlineTimeoutSeconds", "value": str(job.timeout_seconds)},
                ],
            },
        }
        found = self._call(
            "PUT", f"device/{device_id}/quickjob", what="quick job", json_body=body, changes=True
        )
        uid = ((found.json() or {}).get("job") or {}).get("uid")
        if not isinstance(uid, str):
            raise RmmError("in_doubt", f"{VENDOR} accepted the quick job but named no job uid.")
        return uid

    def find(self, device_id: str, marker: str) -> str | None:
        raise RmmError(
            "in_doubt",
            f"{VENDOR} may have started this run (its answer was lost) and its API cannot look a job up by "
            f"name; Branchline did not start it again. Look for the job named {marker} on the device.",
        )

    def state(self, device_id: str, ref: str) -> JobState:
        job = self._call("GET", f"job/{ref}", what="job").json()
        if (job or {}).get("status") != "completed":
            return JobState(done=False, succeeded=None, exit_code=None)
        results = self._call("GET", f"job/{ref}/results/{device_id}", what="job result").json()
        statuses = [str(c.get("componentStatus", "")).lower() for c in results.get("componentResults") or []]
        succeeded = bool(statuses) and all(s == "success" for s in statuses)
        return JobState(done=True, succeeded=succeeded, exit_code=self._exit_code(device_id, ref))

    def _stdout(self, device_id: str, ref: str) -> str:
        rows = self._call("GET", f"job/{ref}/results/{device_id}/stdout", what="job output").json()
        return "".join(str(r.get("stdData") or "") for r in rows or [] if isinstance(r, dict))

    def _exit_code(self, device_id: str, ref: str) -> int | None:
        found = _EXIT.findall(self._stdout(device_id, ref))
        return int(found[-1]) if found else None

    def output(self, device_id: str, ref: str, limit: int) -> bytes:
        text = _EXIT.sub("", self._stdout(device_id, ref)).rstrip("\n")
        return text.encode()[: limit + 1]
