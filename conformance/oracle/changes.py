"""Every behaviour the oracle models that differs between the releases of the matrix.

Each change is stated once, keyed by the release that made it, with the upstream change
and how it was confirmed on the real binaries. The oracle's functions ask
``change.applies(version)``; nothing else in the oracle compares versions. The README's
"rules by version" table is generated from :data:`CHANGES` (``csr-conformance rules
--versions --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conformance.oracle.versions import V1_35, V1_37, KubeVersion


@dataclass(frozen=True)
class Change:
    """One behaviour that a release changed: before it, ``before``; from it on, ``after``."""

    key: str
    rules: tuple[str, ...]
    since: KubeVersion
    before: str
    after: str
    upstream: str
    confirmed: str

    def applies(self, version: KubeVersion) -> bool:
        """True when a server of ``version`` behaves the new way."""
        return version >= self.since


DECLARATIVE_APPROVAL_UNION: Final = Change(
    key="declarative-approval-union",
    rules=("CSR-VAL-C5",),
    since=V1_37,
    before=(
        "an Approved and a Denied condition together are refused by the handwritten check: "
        'one `status.conditions: Invalid value: "Denied": Approved and Denied conditions '
        "are mutually exclusive` per later condition of the other type, in list order "
        "among the other condition errors"
    ),
    after=(
        "the declarative zeroOrOneOf union (beta, enforced with DeclarativeValidationBeta, "
        "on by default) replaces them with one `status.conditions: Invalid value: "
        '"{conditions[{\\"type\\": \\"Approved\\"}], conditions[{\\"type\\": \\"Denied\\"}]}": '
        "must specify at most one of: …` appended after every other error"
    ),
    upstream=(
        "declarative validation moved into rest.ValidateCreate/ValidateUpdate for strategies "
        "embedding rest.DeclarativeValidation and the CSR union promoted from +k8s:alpha to "
        "+k8s:beta in 1.37 (kubernetes/kubernetes: pkg/registry/certificates/certificates/"
        "strategy.go, pkg/apis/certificates/v1/zz_generated.validations.go, staging apiserver "
        "pkg/registry/rest/{create,update,validate}.go); in 1.34–1.36 the union was computed "
        "and only compared (DeclarativeValidationTakeover off; in 1.36 alpha, not enforced)"
    ),
    confirmed=(
        "test_approved_and_denied_never_coexist in the suite (ci/matrix.sh) and corpus step "
        "approval-approved-and-denied against kube-apiserver v1.34.4, v1.35.4, v1.36.3 and "
        "v1.37.2"
    ),
)

DEDUPLICATED_CAUSES: Final = Change(
    key="deduplicated-causes",
    rules=("CSR-META-M5",),
    since=V1_37,
    before=(
        "details.causes lists every field error, so an error two validation passes both "
        "report (e.g. an immutable name, checked by the generic and the CSR metadata "
        "update checks) appears twice; the message lists it once"
    ),
    after=(
        "declarative validation's filter runs on every create and update and goes through "
        "ToAggregate, which drops repeated error texts: details.causes never repeats one"
    ),
    upstream=(
        "same change as declarative-approval-union: validate.FilterCoveredHandwrittenErrors "
        "(staging apimachinery pkg/api/validate/errors.go) now runs for every CSR write "
        "(staging apiserver pkg/registry/rest/validate.go, "
        "ValidateDeclarativelyWithMigrationChecks)"
    ),
    confirmed=(
        "differential corpus step merge-bad-label-key: four identical causes on "
        "kube-apiserver v1.34.4, v1.35.4 and v1.36.3, one on v1.37.2"
    ),
)

LABEL_CONTENT_PACKAGE: Final = Change(
    key="label-content-package",
    rules=("CSR-META-M4",),
    since=V1_35,
    before=(
        "label keys and values, annotation keys and finalizers are checked by "
        "util/validation: a too-long part `must be no more than 63 characters` (253 for a "
        "key's prefix), and a key with two or more '/' `a qualified name must consist of …`"
    ),
    after=(
        "the same checks come from api/validate/content: `must be no more than 63 bytes` "
        "and `a valid label key must consist of …`"
    ),
    upstream=(
        "util/validation.IsQualifiedName and IsValidLabelValue became aliases of "
        "content.IsLabelKey and content.IsLabelValue in 1.35 (kubernetes/kubernetes "
        "staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go, "
        "pkg/api/validate/content/{kube,errors}.go)"
    ),
    confirmed=(
        "test_invalid_create_is_rejected_with_the_expected_causes[CSR-META-M4] against "
        "kube-apiserver v1.34.4 (`63 characters`) and v1.35.4–v1.37.2 (`63 bytes`)"
    ),
)

INDEXED_OWNER_REFERENCES: Final = Change(
    key="indexed-owner-references",
    rules=("CSR-META-M4",),
    since=V1_37,
    before=(
        "owner reference errors name `metadata.ownerReferences.<field>` without an index, "
        'every empty field is `Invalid value: "": must not be empty`, and an apiVersion '
        "without a version (or unparseable) is `version must not be empty`"
    ),
    after=(
        "the paths carry the index (`metadata.ownerReferences[0].kind`), empty fields are "
        "`Required value: must not be empty`, and a bad apiVersion is `must be "
        "<group>/<version> or <version>`"
    ),
    upstream=(
        "validateOwnerReference rewritten for declarative validation in 1.37 "
        "(staging apimachinery pkg/api/validation/objectmeta.go)"
    ),
    confirmed=(
        "differential corpus steps create-ownerref-empty and create-ownerref-bad-version "
        "against kube-apiserver v1.34.4–v1.37.2; the create property's CSR-META-M4 cases"
    ),
)

EARLY_PATCH_VALIDATION: Final = Change(
    key="early-patch-validation",
    rules=("CSR-PATCH-JSON", "CSR-PATCH-MERGE", "CSR-PATCH-SMP", "CSR-PATCH-APPLY"),
    since=V1_37,
    before=(
        "a patch body that is not JSON is read after the object: 404 for a missing name, "
        "else each patch type's own decoding error (`error decoding patch: unexpected end "
        "of JSON input` for JSON and merge patches, the bare decoder text for strategic "
        "merge, `Invalid JSON Patch` for a merge patch with fieldValidation=Ignore); an "
        "apply body's errors say `error decoding YAML: …` and `error strict decoding YAML: …`"
    ),
    after=(
        "the handler checks the body before reading the object: 400 `invalid JSON patch` "
        "for every non-apply type, `error encoding patch: <yaml error>` for an apply body "
        "that is not YAML, and apply's errors say `error decoding patch: …` and `error "
        "strict decoding patch: …`"
    ),
    upstream=(
        "validateAndTranscodePatch added to the patch handler in 1.37 (kubernetes/kubernetes "
        "#139419, staging apiserver pkg/endpoints/handlers/patch.go)"
    ),
    confirmed=(
        "differential corpus steps patch-not-json-* and apply-not-yaml-missing against "
        "kube-apiserver v1.34.4–v1.37.2"
    ),
)

DELETE_OPTIONS_BAD_REQUEST: Final = Change(
    key="delete-options-bad-request",
    rules=("CSR-DEL-OPTS",),
    since=V1_35,
    before=(
        "DeleteOptions in the body that cannot be decoded give the decoder's error as a 500 "
        "without a reason"
    ),
    after="the same message as a 400 BadRequest",
    upstream=(
        "the delete handlers wrap the decode error in errors.NewBadRequest from 1.35 "
        "(staging apiserver pkg/endpoints/handlers/delete.go)"
    ),
    confirmed=(
        "differential corpus step delete-options-undecodable against kube-apiserver "
        "v1.34.4 (500) and v1.35.4–v1.37.2 (400)"
    ),
)

UNSAFE_DELETE: Final = Change(
    key="unsafe-delete",
    rules=("CSR-DEL-OPTS",),
    since=V1_37,
    before=(
        "ignoreStoreReadErrorWithClusterBreakingPotential is dropped before validation "
        "(AllowUnsafeMalformedObjectDeletion off): the delete is an ordinary one"
    ),
    after=(
        "the option is validated (422 with propagationPolicy, orphanDependents, "
        "gracePeriodSeconds or preconditions; 422 on deletecollection), needs the "
        "`unsafe-delete-ignore-read-errors` verb (403), and on an object that decodes "
        "fine answers 409 `… unsafe deletion is not allowed because the object is "
        "decodable from storage`, deleting nothing"
    ),
    upstream=(
        "AllowUnsafeMalformedObjectDeletion beta and on by default in 1.37 (staging "
        "apiserver pkg/features/kube_features.go, pkg/endpoints/handlers/delete.go, "
        "pkg/registry/generic/registry/corrupt_obj_deleter.go)"
    ),
    confirmed=("differential corpus steps delete-unsafe-* against kube-apiserver v1.34.4–v1.37.2"),
)

APPLY_CREATE_WIPES_SYSTEM_FIELDS: Final = Change(
    key="apply-create-wipes-system-fields",
    rules=("CSR-PATCH-APPLY",),
    since=V1_37,
    before=(
        "a server-side apply that creates the object keeps metadata.deletionTimestamp, "
        "deletionGracePeriodSeconds and selfLink from the body"
    ),
    after="the create branch of the store's Update wipes them, as a POST does",
    upstream=(
        "rest.WipeObjectMetaSystemFields on the create branch of Store.Update in 1.37 "
        "(staging apiserver pkg/registry/generic/registry/store.go; kubernetes/kubernetes "
        "issue #133388)"
    ),
    confirmed=(
        "differential corpus step apply-create-deletion-timestamp against kube-apiserver "
        "v1.34.4–v1.37.2"
    ),
)

CHANGES: Final[tuple[Change, ...]] = (
    DECLARATIVE_APPROVAL_UNION,
    DEDUPLICATED_CAUSES,
    LABEL_CONTENT_PACKAGE,
    INDEXED_OWNER_REFERENCES,
    EARLY_PATCH_VALIDATION,
    DELETE_OPTIONS_BAD_REQUEST,
    UNSAFE_DELETE,
    APPLY_CREATE_WIPES_SYSTEM_FIELDS,
)
