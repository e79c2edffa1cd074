"""The oracle: what kube-apiserver does with CertificateSigningRequests, as pure functions.

Laid out by what it models: :mod:`~conformance.oracle.csr` (the CSR API itself),
:mod:`~conformance.oracle.apimachinery` (what every resource goes through: decoding, field
errors, Status, list options, selectors, patches, server-side apply) and
:mod:`~conformance.oracle.golang` (Go behaviour the answers depend on). Every decision is
made for one Kubernetes release (:mod:`~conformance.oracle.versions`); what differs
between releases is stated once in :mod:`~conformance.oracle.changes`.

Everything here is deterministic: callers pass in the clock, uids and generated names, so the
embedded fake and the properties reach the same verdict for the same request.
"""

from conformance.oracle.apimachinery.decode import DecodeResult, decode_body
from conformance.oracle.apimachinery.fielderrors import FieldError, aggregate
from conformance.oracle.apimachinery.status import (
    API_VERSION,
    GROUP,
    KIND,
    LIST_KIND,
    RESOURCE,
    VERSION,
)
from conformance.oracle.csr.create import (
    CreateDecision,
    UserInfo,
    decide_create,
    prepare_for_create,
    subject_restriction,
    validate_create_options,
)
from conformance.oracle.csr.request import parse_subject_organizations, validate_request
from conformance.oracle.csr.rules import RULES, Rule, rule
from conformance.oracle.csr.signer import validate_csr_signer_name, validate_signer_name
from conformance.oracle.csr.update import UpdateDecision, decide_update
from conformance.oracle.csr.update_admission import Authorizer, admission_update, rbac_forbidden
from conformance.oracle.csr.update_strategy import prepare_update, validate_update
from conformance.oracle.csr.validation import (
    VALID_USAGES,
    validate_create,
    validate_csr_create,
    validate_meta_path_segments,
)

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "LIST_KIND",
    "RESOURCE",
    "RULES",
    "VALID_USAGES",
    "VERSION",
    "Authorizer",
    "CreateDecision",
    "DecodeResult",
    "FieldError",
    "Rule",
    "UpdateDecision",
    "UserInfo",
    "admission_update",
    "aggregate",
    "decide_create",
    "decide_update",
    "decode_body",
    "parse_subject_organizations",
    "prepare_for_create",
    "prepare_update",
    "rbac_forbidden",
    "rule",
    "subject_restriction",
    "validate_create",
    "validate_create_options",
    "validate_csr_create",
    "validate_csr_signer_name",
    "validate_meta_path_segments",
    "validate_request",
    "validate_signer_name",
    "validate_update",
]
