"""The oracle: what kube-apiserver v1.37 does with CertificateSigningRequests, as pure functions.

Everything here is deterministic: callers pass in the clock, uids and generated names, so the
embedded fake and the properties reach the same verdict for the same request.
"""

from conformance.spec.create import (
    CreateDecision,
    UserInfo,
    decide_create,
    prepare_for_create,
    subject_restriction,
    validate_create_options,
)
from conformance.spec.decode import DecodeResult, decode_body
from conformance.spec.fielderrors import FieldError, aggregate
from conformance.spec.request import parse_subject_organizations, validate_request
from conformance.spec.rules import RULES, Rule, rule
from conformance.spec.signer import validate_csr_signer_name, validate_signer_name
from conformance.spec.status import API_VERSION, GROUP, KIND, LIST_KIND, RESOURCE, VERSION
from conformance.spec.update import UpdateDecision, decide_update
from conformance.spec.update_admission import Authorizer, admission_update, rbac_forbidden
from conformance.spec.update_strategy import prepare_update, validate_update
from conformance.spec.validation import (
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
