"""A fake Datto RMM API v2 on a loopback port, built from Datto's "Datto RMM API" help page
(OAuth 2.0 tokens, the request limit) and the API's Swagger reference:

- `POST /auth/oauth/token` with Basic `public-client:public` and the form
  `grant_type=password&username={key}&password={secret}` answers `{access_token, token_type:
  "bearer", expires_in}`; wrong keys 400 `{error: "invalid_grant"}`. Calls under `/api/v2/`
  need the bearer token, else 401 `{error: "invalid_token", error_description}`.
- `GET /api/v2/account`; `GET /api/v2/site/{siteUid}/devices` and `/api/v2/account/devices`
  with `page` (from 0) and `max`, answering `{pageDetails: {count, totalCount, prevPageUrl,
  nextPageUrl}, devices: [...]}`.
- `PUT /api/v2/device/{deviceUid}/quickjob` `{jobName, jobComponent: {componentUid,
  variables: [{name, value}]}}` answers `{job: {id, uid, name, dateCreated, status:
  "active"}, variables}`; an unknown device or component 404 `{message}`.
- `GET /api/v2/job/{jobUid}` (`status` active / completed), `GET
  /api/v2/job/{jobUid}/results/{deviceUid}` (`componentResults[].componentStatus`) and
  `.../stdout` (`[{componentUid, componentName, stdData}]`).
- 429 with Retry-After and 5xx outages on demand (`fail`).

No component runs: a job completes after `outcome.polls` reads of its state, with the
output the test set, the runner's `BRANCHLINE_EXIT_CODE=n` line included as it prints it.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.rmm.fake_base import FakeServer, Request, decode_script

_BASIC = "Basic " + base64.b64encode(b"public-client:public").decode()
_SITE_DEVICES = re.compile(r"^/api/v2/site/([\w-]+)/devices$")
_QUICKJOB = re.compile(r"^/api/v2/device/([\w-]+)/quickjob$")
_JOB = re.compile(r"^/api/v2/job/([\w-]+)$")
_RESULTS = re.compile(r"^/api/v2/job/([\w-]+)/results/([\w-]+)(/stdout|/stderr)?$")


@dataclass
class FakeDatto(FakeServer):
    api_key: str = "DATTOKEY42"
    api_secret: str = "dattoSECRET42"
    component_uid: str = "5f3e9d2a-0b6c-4c1e-9a7d-2e8f4b6a1c30"
    devices: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tokens: set[str] = set()
        if not self.devices:
            self.devices = [
                {
                    "uid": str(uuid.UUID(int=i)),
                    "hostname": f"FS-{i:02d}",
                    "siteUid": "site-a" if i % 2 else "site-b",
                    "online": True,
                }
                for i in range(1, 301)
            ]

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "api_url": self.url,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "component_uid": self.component_uid,
            **extra,
        }

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if req.path == "/auth/oauth/token":
            return self._token(req)
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, {"error": "invalid_token", "error_description": "Invalid access token"}, {}
        if req.method == "GET" and req.path == "/api/v2/account":
            return 200, {"id": 1, "uid": "acct-1", "name": "Branchline MSP"}, {}
        if req.method == "GET" and req.path == "/api/v2/account/devices":
            return 200, self._page(req, self.devices), {}
        m = _SITE_DEVICES.match(req.path)
        if m and req.method == "GET":
            return 200, self._page(req, [d for d in self.devices if d["siteUid"] == m.group(1)]), {}
        m = _QUICKJOB.match(req.path)
        if m and req.method == "PUT":
            return self._quickjob(m.group(1), req.body or {})
        m = _JOB.match(req.path)
        if m and req.method == "GET":
            return self._job(m.group(1))
        m = _RESULTS.match(req.path)
        if m and req.method == "GET":
            return self._results(m.group(1), m.group(2), m.group(3))
        return 404, {"message": f"No route {req.method} {req.path}"}, {}

    def _token(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        form = req.body or {}
        if req.headers.get("authorization") != _BASIC or form.get("grant_type") != "password":
            return 401, {"error": "unauthorized", "error_description": "Full authentication is required"}, {}
        if (form.get("username"), form.get("password")) != (self.api_key, self.api_secret):
            return 400, {"error": "invalid_grant", "error_description": "Bad credentials"}, {}
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return (
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": 359999, "scope": "default"},
            {},
        )

    def _page(self, req: Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
        page, size = int(req.query.get("page", 0)), min(int(req.query.get("max", 250)), 250)
        chunk = rows[page * size : (page + 1) * size]
        more = (page + 1) * size < len(rows)
        return {
            "pageDetails": {
                "count": len(chunk),
                "totalCount": len(rows),
                "prevPageUrl": None if page == 0 else f"{self.url}{req.path}?page={page - 1}&max={size}",
                "nextPageUrl": f"{self.url}{req.path}?page={page + 1}&max={size}" if more else None,
            },
            "devices": chunk,
        }

    def _quickjob(self, device_uid: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if not any(d["uid"] == device_uid for d in self.devices):
            return 404, {"message": f"Device {device_uid} not found"}, {}
        component = body.get("jobComponent") or {}
        if component.get("componentUid") != self.component_uid:
            return 404, {"message": "Component not found"}, {}
        variables = {v["name"]: v["value"] for v in component.get("variables") or []}
        uid = str(uuid.uuid4())
        self.jobs[uid] = {
            "uid": uid,
            "name": body.get("jobName"),
            "device_uid": device_uid,
            "script": decode_script(variables["BranchlineScript"]),
            "timeout": variables.get("BranchlineTimeoutSeconds"),
            "outcome": self.outcome,
            "reads": 0,
        }
        job = {"id": len(self.jobs), "uid": uid, "name": body.get("jobName"), "status": "active"}
        return 200, {"job": job, "variables": component.get("variables")}, {}

    def _status(self, job: dict[str, Any]) -> str:
        polls = job["outcome"].polls
        return "completed" if polls is not None and job["reads"] >= polls else "active"

    def _job(self, uid: str) -> tuple[int, Any, dict[str, str]]:
        job = self.jobs.get(uid)
        if job is None:
            return 404, {"message": f"Job {uid} not found"}, {}
        job["reads"] += 1
        return 200, {"uid": uid, "name": job["name"], "status": self._status(job)}, {}

    def _results(self, uid: str, device_uid: str, stream: str | None) -> tuple[int, Any, dict[str, str]]:
        job = self.jobs.get(uid)
        if job is None or job["device_uid"] != device_uid or self._status(job) != "completed":
            return 404, {"message": "No results for this job and device"}, {}
        outcome = job["outcome"]
        if stream == "/stdout":
            text = f"{outcome.output}\nBRANCHLINE_EXIT_CODE={outcome.exit_code}\n"
            return (
                200,
                [{"componentUid": self.component_uid, "componentName": "Branchline runner", "stdData": text}],
                {},
            )
        if stream == "/stderr":
            return 200, [], {}
        status = "success" if outcome.exit_code == 0 else "failure"
        return (
            200,
            {
                "jobUid": uid,
                "deviceUid": device_uid,
                "jobDeploymentStatus": status,
                "componentResults": [
                    {
                        "componentUid": self.component_uid,
                        "componentName": "Branchline runner",
                        "componentStatus": status,
                        "numberOfWarnings": 0,
                        "hasStdOut": True,
                        "hasStdErr": False,
                    }
                ],
            },
            {},
        )
