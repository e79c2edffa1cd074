"""The few raw-JSON calls the control plane makes to its own API server.

Deliberately tiny and separate from ``conformance.client``: start-up must not depend
on the code under test, and it needs only bearer-token JSON requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import urllib3


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiClient:
    """Bearer-token HTTPS requests verified against the run's serving CA."""

    def __init__(self, url: str, ca_file: str) -> None:
        self.url = url.rstrip("/")
        self._pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_file,
            retries=False,
            timeout=urllib3.Timeout(connect=2.0, read=10.0),
        )

    def request(
        self, method: str, path: str, token: str, body: dict[str, Any] | None = None
    ) -> Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        r = self._pool.request(method, self.url + path, body=data, headers=headers)
        return Response(status=r.status, body=r.data)

    def close(self) -> None:
        self._pool.clear()
