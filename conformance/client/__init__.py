"""Raw-JSON HTTP client for the CSR API, with transcripts and redaction."""

from conformance.client.api import (
    CSR_PATH,
    GROUP_PATH,
    Breaker,
    Client,
    Response,
    csr_path,
)
from conformance.client.connection import Connection
from conformance.client.errors import KubeconfigError, NotJSON, TargetError
from conformance.client.transcript import Exchange, Transcript

__all__ = [
    "CSR_PATH",
    "GROUP_PATH",
    "Breaker",
    "Client",
    "Connection",
    "Exchange",
    "KubeconfigError",
    "NotJSON",
    "Response",
    "TargetError",
    "Transcript",
    "csr_path",
]
