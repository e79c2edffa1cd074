"""One scenario per sensitivity fault of the fake (``_SENSITIVITY_FAULTS`` in
``conformance/targets/fake/faults.py``), each the shortest request sequence on which the
faulty fake answers or stores something the correct one does not.

These faults exist to show that properties covering otherwise unchecked rules can fail
(``tests/test_sensitivity.py``); the scenarios here show that each fault is really wired
into the server, so a property passing against it would be the property's defect, not a
dead fault. The helpers are those of ``tests/test_fake_update.py``.
"""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from test_fake_update import (
    APPLY,
    CERT,
    CSRS,
    MERGE,
    Api,
    Scenario,
    apply_doc,
    assert_fault_changes_behaviour,
    csr_body,
    types,
)

from conformance.targets.fake import FAULTS

_ONE_YEAR = 365 * 24 * 3600


def _ed25519_request_b64() -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed25519")]))
        .sign(ed25519.Ed25519PrivateKey.generate(), None)
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


# -- create ------------------------------------------------------------------------------


def _sc_ed25519(api: Api) -> int:
    body = csr_body("s-ed25519")
    body["spec"]["request"] = _ed25519_request_b64()
    return api.call("POST", CSRS, body).status


def _sc_kubernetes_io_signer(api: Api) -> int:
    return api.call("POST", CSRS, csr_body("s-kio", "kubernetes.io/custom-signer")).status


def _sc_expiration(api: Api) -> int:
    body = csr_body("s-exp")
    body["spec"]["expirationSeconds"] = 2 * _ONE_YEAR
    stored: int = api.call("POST", CSRS, body).body["spec"]["expirationSeconds"]
    return stored


# -- update: options and decoding --------------------------------------------------------


def _sc_creation_timestamp(api: Api) -> str:
    api.create("s-ctime")
    obj = api.get("s-ctime")
    obj["metadata"]["creationTimestamp"] = "2001-01-01T00:00:00Z"
    api.put("s-ctime", obj)
    return str(api.get("s-ctime")["metadata"]["creationTimestamp"])


def _sc_apply_conflict(api: Api) -> int:
    api.create("s-apply", labels={"a": "1"})
    doc = apply_doc("s-apply", metadata={"name": "s-apply", "labels": {"a": "2"}})
    return api.patch("s-apply", doc, APPLY, query={"fieldManager": "other"}).status


def _sc_patch_field_validation(api: Api) -> int:
    api.create("s-fval")
    patch = {"metadata": {"labels": {"a": "1"}}, "unknownField": 1}
    return api.patch("s-fval", patch, MERGE, query={"fieldValidation": "Strict"}).status


def _sc_update_options(api: Api) -> int:
    api.create("s-opts")
    patch = {"metadata": {"labels": {"a": "1"}}}
    return api.patch("s-opts", patch, MERGE, query={"force": "true"}).status


def _sc_put_api_version(api: Api) -> int:
    api.create("s-apiv")
    obj = api.get("s-apiv")
    obj["apiVersion"] = "certificates.k8s.io/v1beta1"
    return api.put("s-apiv", obj).status


def _sc_dry_run(api: Api) -> object:
    api.create("s-dry")
    api.patch("s-dry", {"metadata": {"labels": {"a": "1"}}}, MERGE, query={"dryRun": "All"})
    return api.get("s-dry")["metadata"].get("labels")


# -- update: what the endpoints accept ---------------------------------------------------


def _sc_certificate_without_approval(api: Api) -> int:
    api.create("s-cert")
    return api.patch("s-cert", {"status": {"certificate": CERT}}, MERGE, "status").status


def _sc_main_status(api: Api) -> list[str]:
    api.create("s-main")
    api.patch("s-main", {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}, MERGE)
    return types(api.get("s-main"))


def _sc_finalizer_while_deleting(api: Api) -> int:
    api.create("s-fin", finalizers=["example.com/keep"])
    assert api.call("DELETE", f"{CSRS}/s-fin").status == 200
    patch = {"metadata": {"finalizers": ["example.com/keep", "example.com/new"]}}
    return api.patch("s-fin", patch, MERGE).status


def _sc_conditions_unvalidated(api: Api) -> int:
    api.create("s-cond")
    patch = {"status": {"conditions": [{"type": "Custom", "status": "Maybe"}]}}
    return api.patch("s-cond", patch, MERGE, "approval").status


SENSITIVITY_SCENARIOS: dict[str, Scenario] = {
    "reject-ed25519-requests": _sc_ed25519,
    "kubernetes-io-signers-restricted": _sc_kubernetes_io_signer,
    "expiration-capped": _sc_expiration,
    "creation-timestamp-writable": _sc_creation_timestamp,
    "apply-ignores-conflicts": _sc_apply_conflict,
    "patch-field-validation-ignored": _sc_patch_field_validation,
    "update-options-unchecked": _sc_update_options,
    "put-apiversion-unchecked": _sc_put_api_version,
    "dryrun-update-persists": _sc_dry_run,
    "certificate-requires-approval": _sc_certificate_without_approval,
    "main-accepts-status-changes": _sc_main_status,
    "finalizers-added-while-deleting": _sc_finalizer_while_deleting,
    "update-conditions-unvalidated": _sc_conditions_unvalidated,
}
"""One scenario per sensitivity fault; ``tests/test_fake.py`` requires every fault to have one."""


def test_sensitivity_scenarios_name_faults() -> None:
    assert set(SENSITIVITY_SCENARIOS) <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(SENSITIVITY_SCENARIOS))
def test_fault_changes_behaviour(fault: str) -> None:
    assert_fault_changes_behaviour(fault, SENSITIVITY_SCENARIOS[fault])
