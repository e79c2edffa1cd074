"""The fake's reference signer: kube-controller-manager's csrsigning, inside the fake.

It subscribes to the store and needs no HTTP loop of its own. Store listeners run under
the store lock on the writer's thread, so the listener only queues the object's name;
one worker thread takes names in order and syncs each, as kcm's certificate controller
syncs a key from its workqueue:

1. skip a CSR that already has a certificate, that is not Approved (or is Denied), that
   carries ``Failed``, or whose signerName this signer does not serve;
2. run the signer's policy (:func:`conformance.oracle.csr.signing.policy_error`); a refusal
   appends ``Failed=True``, reason ``SignerValidationFailure``, message the policy's
   error;
3. otherwise issue: lifetime ``min(expirationSeconds, max)`` with the 10-minute floor,
   5 minutes of backdating, capped at the CA's notAfter; subject, SANs and key from the
   request; usages from ``spec.usages``.

Both writes go through :func:`conformance.targets.fake.registry.update_status`, the
oracle-judged ``/status`` PUT, as the signer's own identity (a ``system:masters``
member, like kcm on the control-plane target). One worker and one FIFO queue also make
the fake deterministic for the properties: once a later request is issued, every
earlier event has been handled.

The ``signer-*`` faults of :mod:`conformance.targets.fake.faults` bend the decision at
the one place each concerns.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.oracle.csr.signer import is_kubernetes_signer_name
from conformance.oracle.csr.signing import (
    FAILED_REASON,
    Names,
    SignerExpired,
    duration,
    names_of,
    policy_error,
    validity,
)
from conformance.targets.fake.authn import AUTHENTICATED_GROUP, Principal
from conformance.targets.fake.authz import MASTERS_GROUP
from conformance.targets.fake.context import ServerState, rfc3339
from conformance.targets.fake.registry import update_status
from conformance.targets.fake.signing_ca import SignerConfig, SigningCA
from conformance.targets.fake.store import DELETED, Event, Obj, StaleWrite

log = logging.getLogger(__name__)

SIGNER_PRINCIPAL: Final = Principal(
    username="system:csrc-reference-signer",
    uid="uid-csrc-reference-signer",
    groups=(MASTERS_GROUP, AUTHENTICATED_GROUP),
)
"""Who the reference signer writes as (its managedFields manager is its User-Agent)."""
USER_AGENT: Final = "csrc-reference-signer/v1"
HOURS_BACKDATE: Final = 3 * 3600
"""How far the ``signer-backdates-hours`` fault backdates."""
_FAR_FUTURE: Final = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
_STOP: Final = ""


def _true_conditions(obj: Obj) -> set[str]:
    conds = (obj.get("status") or {}).get("conditions") or []
    return {str(c.get("type")) for c in conds if isinstance(c, dict) and c.get("status") == "True"}


class ReferenceSigner:
    """A controller that signs approved CSRs for the configured signer names."""

    def __init__(self, state: ServerState, config: SignerConfig) -> None:
        self.state = state
        self.config = config
        now = state.clock()
        if config.ca_cert_file and config.ca_key_file:
            self.ca = SigningCA.load(config.ca_cert_file, config.ca_key_file)
        else:
            self.ca = SigningCA.generate(
                "csr-conformance-reference-signer", config.ca_lifetime, now
            )
        self._foreign: SigningCA | None = None
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._reissued: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self.state.store.subscribe(self._on_event)
        for name in sorted(self.state.store.names()):
            self._queue.put(name)
        self._thread = threading.Thread(target=self._run, name="csrc-reference-signer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(10.0)
            self._thread = None

    def wait_idle(self) -> None:
        """Block until every queued event has been handled (for the project's tests)."""
        self._queue.join()

    # -- the queue -------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.type != DELETED:
            self._queue.put(str(event.object["metadata"]["name"]))

    def _run(self) -> None:
        while True:
            name = self._queue.get()
            try:
                if name == _STOP:
                    return
                self.sync(name)
            except Exception:  # a controller logs and carries on
                log.exception("reference signer: syncing %s failed", name)
            finally:
                self._queue.task_done()

    # -- the decision ----------------------------------------------------------------

    def _on(self, fault: str) -> bool:
        return self.state.faults.on(fault)

    def _approved(self, conds: set[str]) -> bool:
        approved = "Approved" in conds and "Denied" not in conds
        if self._on("signer-signs-denied") and "Denied" in conds:
            approved = True
        if self._on("signer-signs-unapproved") and not conds & {"Approved", "Denied"}:
            approved = True
        return approved

    def sync(self, name: str) -> None:
        obj = self.state.store.get(name)
        if obj is None:
            return
        spec: dict[str, Any] = obj.get("spec") or {}
        status: dict[str, Any] = obj.get("status") or {}
        if status.get("certificate"):
            self._maybe_reissue(obj)
            return
        conds = _true_conditions(obj)
        if not self._approved(conds):
            return
        if "Failed" in conds and not self._on("signer-issues-after-failed"):
            return
        signer = str(spec.get("signerName", ""))
        if signer not in self.config.names and not self._on("signer-signs-other-signers"):
            return
        if self._on("signer-never-issues"):
            return
        csr = _request_of(spec)
        if csr is None:
            return  # kcm logs "unable to parse csr" and retries; nothing is written
        usages = [str(u) for u in spec.get("usages") or []]
        error = policy_error(signer, csr, usages, self.config.custom_policy)
        if error is not None and not self._on("signer-ignores-policy"):
            self._fail(obj, error)
            return
        certificate = self._sign(csr, usages, spec.get("expirationSeconds"), signer)
        if certificate is None:
            return
        body = _status_body(obj)
        body["status"]["certificate"] = _b64(certificate)
        code, _ = update_status(self.state, SIGNER_PRINCIPAL, body, USER_AGENT)
        if code != 200:
            log.info("reference signer: writing the certificate of %s got %d", name, code)

    def _fail(self, obj: Obj, message: str) -> None:
        body = _status_body(obj)
        body["status"].setdefault("conditions", []).append(
            {
                "type": "Failed",
                "status": "True",
                "reason": FAILED_REASON,
                "message": message,
                "lastUpdateTime": rfc3339(self.state.clock()),
            }
        )
        update_status(self.state, SIGNER_PRINCIPAL, body, USER_AGENT)

    def _sign(
        self,
        csr: x509.CertificateSigningRequest,
        usages: list[str],
        expiration_seconds: Any,
        signer: str,
    ) -> str | None:
        custom = not is_kubernetes_signer_name(signer)
        max_ttl = self.config.custom_policy.max_duration if custom else self.config.cert_ttl
        requested = expiration_seconds if isinstance(expiration_seconds, int) else None
        ttl = max_ttl if self._on("signer-ignores-expiration") else duration(max_ttl, requested)
        backdate = HOURS_BACKDATE if self._on("signer-backdates-hours") else None
        ca_not_after = _FAR_FUTURE if self._on("signer-outlives-ca") else self.ca.not_after
        now = self.state.clock()
        try:
            if backdate is None:
                not_before, not_after = validity(now, ttl, ca_not_after)
            else:
                not_before, not_after = validity(now, ttl, ca_not_after, backdate=backdate)
        except SignerExpired as e:
            log.warning("reference signer: %s", e)
            return None
        names = names_of(csr.extensions)
        if self._on("signer-drops-san") and names.all():
            names = _drop_last(names)
        public_key = None
        if self._on("signer-wrong-public-key"):
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        extra: tuple[str, ...] = ()
        if self._on("signer-adds-usage"):
            extra = ("code signing",) if "code signing" not in usages else ("ocsp signing",)
        ca = self._foreign_ca() if self._on("signer-foreign-ca") else self.ca
        return ca.issue(
            csr,
            usages,
            not_before,
            not_after,
            names=names,
            public_key=public_key,
            extra_usages=extra,
        )

    def _foreign_ca(self) -> SigningCA:
        if self._foreign is None:
            self._foreign = SigningCA.generate(
                "csr-conformance-foreign-ca", self.config.ca_lifetime, self.state.clock()
            )
        return self._foreign

    def _maybe_reissue(self, obj: Obj) -> None:
        """The ``signer-reissues`` fault: one second certificate, written past the API's
        immutability check (a buggy server and signer together)."""
        name = str(obj["metadata"]["name"])
        if not self._on("signer-reissues") or name in self._reissued:
            return
        spec = obj.get("spec") or {}
        if spec.get("signerName") not in self.config.names:
            return
        self._reissued.add(name)
        csr = _request_of(spec)
        usages = [str(u) for u in spec.get("usages") or []]
        certificate = None
        if csr is not None:
            certificate = self._sign(csr, usages, spec.get("expirationSeconds"), spec["signerName"])
        if certificate is None:
            return
        obj["status"]["certificate"] = _b64(certificate)
        obj["metadata"].pop("resourceVersion", None)
        with contextlib.suppress(StaleWrite, KeyError):
            self.state.store.update(obj, expected_rv=None)


def _request_of(spec: dict[str, Any]) -> x509.CertificateSigningRequest | None:
    """``spec.request`` (base64 of PEM on the wire and in the store), parsed."""
    try:
        return x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request", ""))))
    except ValueError:
        return None


def _b64(pem: str) -> str:
    return base64.b64encode(pem.encode()).decode()


def _status_body(obj: Obj) -> dict[str, Any]:
    """What ``UpdateStatus`` sends: the object as read, resourceVersion included."""
    body: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }
    meta = dict(body["metadata"])
    meta.pop("managedFields", None)
    body["metadata"] = meta
    body["status"] = dict(body.get("status") or {})
    return body


def _drop_last(names: Names) -> Names:
    ordered = [("dns", v) for v in names.dns] + [("emails", v) for v in names.emails]
    ordered += [("ips", v) for v in names.ips] + [("uris", v) for v in names.uris]
    kind, value = ordered[-1]
    fields = {k: list(getattr(names, k)) for k in ("dns", "emails", "ips", "uris")}
    fields[kind].remove(value)
    return Names(**{k: tuple(v) for k, v in fields.items()})
