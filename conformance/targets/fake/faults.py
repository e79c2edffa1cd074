"""Named, deliberate bugs the fake can carry, so every property can be shown to fail.

Design rule 4 says a property that no server bug can break is a defect in the suite. Each
fault below is one small, plausible deviation from kube-apiserver — the kind of mistake a
hand-written fake or an alternative API server really makes — and names the rule ids of
``conformance.oracle.csr.rules`` it breaks, so the project's self-check can run each property
against the faults aimed at it and demand a failure.

The fake consults faults only through :class:`ActiveFaults`, at the single place where the
deviation happens; nothing else in the fake changes when a fault is switched on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Fault:
    """One deliberate deviation from kube-apiserver."""

    name: str
    summary: str
    rules: tuple[str, ...]


RUN_LABEL_KEY: Final = "csr-conformance.io/run"
"""The label every object the suite creates carries (``conformance.session.RUN_LABEL``).

``deletecollection-ignores-selector`` keeps honouring a requirement on this key, so that
the fault wipes at most the objects of the run that asked, never another test's objects.
"""

_CREATE_VALIDATION_RULES: Final = (
    "CSR-META-M2",
    "CSR-META-M3",
    "CSR-VAL-R1",
    "CSR-VAL-R2",
    "CSR-VAL-R3",
    "CSR-VAL-U1",
    "CSR-VAL-U2",
    "CSR-VAL-U3",
    "CSR-VAL-S1",
    "CSR-VAL-S2",
    "CSR-VAL-S3",
    "CSR-VAL-S4",
    "CSR-VAL-S5",
    "CSR-VAL-S6",
    "CSR-VAL-X1",
    "CSR-ERR-STATUS",
)

_FAULT_LIST: Final[tuple[Fault, ...]] = (
    Fault(
        "accept-bad-signature",
        "spec.request's self-signature is not checked, so a tampered CSR is stored",
        ("CSR-VAL-R3",),
    ),
    Fault(
        "keep-client-username",
        "client-sent spec.username/uid/groups/extra are kept instead of the caller's identity",
        ("CSR-CREATE-PREP-ID",),
    ),
    Fault(
        "keep-client-status",
        "client-sent status (conditions, certificate) survives create",
        ("CSR-CREATE-PREP-STATUS",),
    ),
    Fault(
        "validation-400",
        "validation failures answer 400 BadRequest instead of 422 Invalid",
        _CREATE_VALIDATION_RULES,
    ),
    Fault(
        "wrong-cause-field",
        "cause field paths lose their list index (spec.usages instead of spec.usages[1])",
        ("CSR-VAL-U2", "CSR-VAL-U3"),
    ),
    Fault(
        "dryrun-persists",
        "dryRun=All on create still stores the object",
        ("CSR-CREATE-DRYRUN",),
    ),
    Fault(
        "dryrun-delete-deletes",
        "dryRun=All on delete still removes the object",
        ("CSR-DEL-DRYRUN",),
    ),
    Fault(
        "delete-options-unvalidated",
        "DELETE ignores invalid DeleteOptions and ignoreStoreReadErrorWithClusterBreakingPotential "
        "(deletes instead of 422, 403 or 409)",
        ("CSR-DEL-OPTS",),
    ),
    Fault(
        "delete-returns-object",
        "DELETE answers with the deleted object instead of a Success Status",
        ("CSR-DEL-STATUS",),
    ),
    Fault(
        "list-without-kind",
        "list responses omit kind and apiVersion",
        ("CSR-READ-LIST",),
    ),
    Fault(
        "unsorted-list",
        "list items come back in reverse name order",
        ("CSR-READ-LIST",),
    ),
    Fault(
        "empty-list-null-items",
        "an empty list serialises items as null",
        ("CSR-READ-LIST",),
    ),
    Fault(
        "ignore-field-selector",
        "list ignores fieldSelector entirely (no filtering, no 400 for unsupported labels)",
        ("CSR-READ-LIST",),
    ),
    Fault(
        "namespace-kept",
        "metadata.namespace sent on create is stored instead of cleared",
        ("CSR-META-NS",),
    ),
    Fault(
        "keep-client-uid",
        "metadata.uid and creationTimestamp sent on create are kept",
        ("CSR-META-SYS",),
    ),
    Fault(
        "generate-name-untruncated",
        "generateName prefixes longer than 58 characters are not cut",
        ("CSR-META-GEN",),
    ),
    Fault(
        "allow-legacy-signer",
        "kubernetes.io/legacy-unknown is accepted on create",
        ("CSR-VAL-S1",),
    ),
    Fault(
        "min-expiration-off-by-one",
        "expirationSeconds of 599 is accepted (the minimum check uses <= 598)",
        ("CSR-VAL-X1",),
    ),
    Fault(
        "usages-sorted",
        "the server stores spec.usages sorted instead of in the order sent",
        ("CSR-VAL-U4", "CSR-CREATE-ROUNDTRIP"),
    ),
    Fault(
        "duplicate-name-overwrites",
        "creating an existing name replaces the object (201) instead of 409 AlreadyExists",
        ("CSR-CREATE-EXISTS",),
    ),
    Fault(
        "rv-on-create-accepted",
        "a numeric metadata.resourceVersion on create is ignored instead of a 500",
        ("CSR-META-RV",),
    ),
    Fault(
        "delete-ignores-preconditions",
        "DELETE ignores preconditions.uid and preconditions.resourceVersion",
        ("CSR-DEL-PRECOND",),
    ),
    Fault(
        "deletecollection-ignores-selector",
        "deletecollection ignores the field selector and all label terms except the run label "
        "(it still never deletes outside the requesting run)",
        ("CSR-DEL-COLL",),
    ),
    Fault(
        "discovery-without-approval",
        "discovery omits the certificatesigningrequests/approval subresource",
        ("CSR-DISC",),
    ),
    # --- update paths (PUT/PATCH on the main resource, /approval, /status) ---
    Fault(
        "status-via-main",
        "PUT/PATCH of the main resource stores the status it was sent instead of keeping the "
        "old one",
        ("CSR-SUB-MAIN-STATUS",),
    ),
    Fault(
        "patch-persists-spec",
        "a PATCH of the main resource stores spec changes (PUT still keeps the old spec)",
        ("CSR-IMM-SPEC",),
    ),
    Fault(
        "status-can-approve",
        "/status treats conditions like /approval: Approved and Denied may be added or edited",
        ("CSR-SUB-STATUS-AD", "CSR-VAL-C7"),
    ),
    Fault(
        "approval-sets-certificate",
        "/approval stores status.certificate instead of keeping the old one",
        ("CSR-SUB-APPROVAL",),
    ),
    Fault(
        "approved-and-denied",
        "a CSR may carry both Approved and Denied (the mutual-exclusion check is missing)",
        ("CSR-VAL-C5", "CSR-SUB-APPROVAL"),
    ),
    Fault(
        "approval-removable",
        "/approval may remove Approved, Denied and Failed conditions",
        ("CSR-VAL-C6", "CSR-SUB-APPROVAL"),
    ),
    Fault(
        "certificate-replaceable",
        "/status may replace or clear a certificate that is already set",
        ("CSR-SUB-STATUS-CERT", "CSR-VAL-K3"),
    ),
    Fault(
        "stale-rv-accepted",
        "an update carrying a stale metadata.resourceVersion succeeds instead of 409 Conflict",
        ("CSR-CONC-RV",),
    ),
    Fault(
        "uid-mismatch-accepted",
        "a PUT whose body uid differs from the stored uid succeeds instead of 409",
        ("CSR-CONC-UID",),
    ),
    Fault(
        "smp-merges-conditions",
        "a strategic merge patch merges status.conditions by type instead of replacing the list",
        ("CSR-PATCH-SMP",),
    ),
    Fault(
        "timestamps-overwritten",
        "/approval and /status stamp every submitted condition's lastUpdateTime with the "
        "request time, replacing the client's value",
        ("CSR-SUB-TIME",),
    ),
    Fault(
        "noop-bumps-rv",
        "a write that changes nothing still takes a new resourceVersion and sends MODIFIED",
        ("CSR-SUB-NOOP",),
    ),
    Fault(
        "approve-without-verb",
        "/approval writes are admitted without approve permission on the signer",
        ("CSR-ADM-APPROVE",),
    ),
    Fault(
        "sign-without-verb",
        "/status writes that change the certificate or conditions are admitted without sign "
        "permission on the signer",
        ("CSR-ADM-SIGN",),
    ),
    Fault(
        "approval-ignores-metadata",
        "/approval drops label, annotation, finalizer and ownerReference changes",
        ("CSR-SUB-META",),
    ),
    Fault(
        "put-creates",
        "PUT of a missing name creates the object (201) instead of 404",
        ("CSR-UPD-404",),
    ),
    Fault(
        "name-mismatch-accepted",
        "a PUT or PATCH whose body name differs from the URL updates the URL's object instead "
        "of 400",
        ("CSR-UPD-NAME",),
    ),
    Fault(
        "unknown-patch-type-as-merge",
        "a PATCH with an unsupported Content-Type is applied as a JSON merge patch instead of 415",
        ("CSR-PATCH-415",),
    ),
    Fault(
        "subresource-rbac-open",
        "any authenticated user may update and patch /approval and /status (only the admission "
        "plugins still check approve and sign)",
        ("CSR-AUTHZ-RBAC",),
    ),
)

# Faults of later capabilities, one tuple each so that work on one never edits another's.
_WATCH_AND_LIST_FAULTS: Final[tuple[Fault, ...]] = (
    # watch, pagination, selectors (issue 8)
    Fault(
        "watch-events-reordered",
        "a watch sends each pair of consecutive events in swapped order",
        ("CSR-WATCH-ORDER",),
    ),
    Fault(
        "watch-drops-modified",
        "every second MODIFIED event of a watch is never sent",
        ("CSR-WATCH-ORDER", "CSR-WATCH-FAITHFUL"),
    ),
    Fault(
        "watch-duplicates-event",
        "every ADDED event of a watch is sent twice",
        ("CSR-WATCH-ORDER", "CSR-WATCH-START"),
    ),
    Fault(
        "watch-ignores-start-rv",
        "a watch from resourceVersion N replays the whole current state as ADDED instead",
        ("CSR-WATCH-START", "CSR-WATCH-RESUME"),
    ),
    Fault(
        "watch-ignores-selector",
        "a watch sends every object, whatever its label and field selectors say",
        ("CSR-WATCH-FILTER",),
    ),
    Fault(
        "watch-deleted-wrong-rv",
        "DELETED events carry the object's last stored resourceVersion, not the delete's",
        ("CSR-WATCH-FAITHFUL",),
    ),
    Fault(
        "watch-too-old-from-now",
        "a watch from a compacted resourceVersion streams from now instead of ERROR 410",
        ("CSR-WATCH-EXPIRED",),
    ),
    Fault(
        "bookmark-goes-backwards",
        "bookmarks carry the resourceVersion the watch started at, older than events sent",
        ("CSR-WATCH-BOOKMARK",),
    ),
    Fault(
        "initial-events-end-missing",
        "sendInitialEvents never sends the k8s.io/initial-events-end bookmark",
        ("CSR-WATCH-BOOKMARK",),
    ),
    Fault(
        "continue-repeats-item",
        "a continue token resumes at the last item of the page, so it is listed twice",
        ("CSR-READ-PAGE",),
    ),
    Fault(
        "pages-from-different-snapshots",
        "a continued list reads the current state instead of the first page's snapshot",
        ("CSR-READ-PAGE",),
    ),
    Fault(
        "list-ignores-limit",
        "list ignores limit and returns everything in one page",
        ("CSR-READ-PAGE",),
    ),
    Fault(
        "remaining-count-off-by-one",
        "remainingItemCount counts one object more than remains",
        ("CSR-READ-PAGE",),
    ),
    Fault(
        "list-ignores-label-selector",
        "list and watch ignore labelSelector (deletecollection still honours it)",
        ("CSR-SEL-LABEL", "CSR-READ-LIST"),
    ),
    Fault(
        "label-notin-as-in",
        "a label selector's notin is evaluated as in on list and watch",
        ("CSR-SEL-LABEL",),
    ),
    Fault(
        "field-selector-not-equal-ignored",
        "field selector terms with != are dropped on list and watch",
        ("CSR-READ-LIST", "CSR-SEL-LABEL"),
    ),
)
_SENSITIVITY_FAULTS: Final[tuple[Fault, ...]] = (
    # rules checked by no property or only by the state machine (issue 14)
    Fault(
        "reject-ed25519-requests",
        "spec.request with an Ed25519 key is refused (422), as by an x509 parser that "
        "predates Ed25519",
        ("CSR-VAL-R4",),
    ),
    Fault(
        "kubernetes-io-signers-restricted",
        "only the well-known kubernetes.io/* signer names are accepted; any other "
        "kubernetes.io/ name is a 422",
        ("CSR-VAL-S7",),
    ),
    Fault(
        "expiration-capped",
        "expirationSeconds above one year are stored as one year (31536000)",
        ("CSR-VAL-X2",),
    ),
    Fault(
        "creation-timestamp-writable",
        "an update stores the metadata.creationTimestamp it was sent instead of keeping the "
        "stored one",
        ("CSR-META-M5", "CSR-IMM-META"),
    ),
    Fault(
        "apply-ignores-conflicts",
        "server-side apply takes fields owned by another manager without force instead of "
        "409 Conflict",
        ("CSR-PATCH-APPLY",),
    ),
    Fault(
        "patch-field-validation-ignored",
        "PATCH ignores fieldValidation: unknown and duplicate fields are dropped silently, "
        "with no Warning header and no Strict 422",
        ("CSR-PATCH-FIELDVAL",),
    ),
    Fault(
        "update-options-unchecked",
        "invalid UpdateOptions/PatchOptions (dryRun values, fieldManager, fieldValidation, "
        "force on a non-apply patch) are ignored instead of 422",
        ("CSR-PATCH-OPTS",),
    ),
    Fault(
        "put-apiversion-unchecked",
        "a PUT body's apiVersion is not checked against the endpoint's group and version",
        ("CSR-UPD-DECODE",),
    ),
    Fault(
        "dryrun-update-persists",
        "dryRun=All on PUT or PATCH still stores the change",
        ("CSR-UPD-DRYRUN",),
    ),
    Fault(
        "certificate-requires-approval",
        "/status refuses (422) a certificate for a CSR that has no Approved condition",
        ("CSR-VAL-K2",),
    ),
    Fault(
        "main-accepts-status-changes",
        "PUT/PATCH of the main resource applies the status changes /status would accept "
        "(a Failed or custom condition, a certificate)",
        ("CSR-SUB-MAIN-STATUS", "CSR-VAL-K4"),
    ),
    Fault(
        "finalizers-added-while-deleting",
        "an update may add finalizers to an object that is being deleted",
        ("CSR-IMM-META",),
    ),
    Fault(
        "update-conditions-unvalidated",
        "/approval and /status store conditions with an empty type or status, an "
        "unsupported status or a repeated type instead of 422",
        ("CSR-VAL-C1", "CSR-VAL-C2", "CSR-VAL-C3", "CSR-VAL-C4"),
    ),
)
_SIGNER_FAULTS: Final[tuple[Fault, ...]] = (
    # the fake's reference signer (issue 11; conformance/targets/fake/signer.py)
    Fault(
        "signer-signs-denied",
        "the reference signer treats a Denied condition like Approved and issues",
        ("CSR-SIGN-GATE",),
    ),
    Fault(
        "signer-signs-unapproved",
        "the reference signer issues for requests nobody approved yet",
        ("CSR-SIGN-GATE",),
    ),
    Fault(
        "signer-issues-after-failed",
        "the reference signer ignores a Failed condition and issues anyway",
        ("CSR-SIGN-GATE",),
    ),
    Fault(
        "signer-signs-other-signers",
        "the reference signer issues for every approved request, whatever its signerName",
        ("CSR-SIGN-OWN",),
    ),
    Fault(
        "signer-ignores-expiration",
        "the reference signer always issues for its maximum duration, ignoring expirationSeconds",
        ("CSR-SIGN-LIFETIME",),
    ),
    Fault(
        "signer-wrong-public-key",
        "the reference signer certifies a key of its own instead of the request's",
        ("CSR-SIGN-KEY",),
    ),
    Fault(
        "signer-drops-san",
        "the reference signer drops the last subjectAltName of the request",
        ("CSR-SIGN-SUBJECT",),
    ),
    Fault(
        "signer-adds-usage",
        "the reference signer adds an ExtKeyUsage that was not requested",
        ("CSR-SIGN-USAGES",),
    ),
    Fault(
        "signer-outlives-ca",
        "the reference signer does not cap notAfter at its CA's notAfter",
        ("CSR-SIGN-CA-EXPIRY",),
    ),
    Fault(
        "signer-reissues",
        "the reference signer issues a second, different certificate over the first (and the "
        "fake lets that write through)",
        ("CSR-SIGN-ONCE",),
    ),
    Fault(
        "signer-backdates-hours",
        "the reference signer backdates notBefore by three hours instead of five minutes",
        ("CSR-SIGN-NOTBEFORE", "CSR-SIGN-LIFETIME"),
    ),
    Fault(
        "signer-ignores-policy",
        "the reference signer issues requests its policy refuses instead of marking them Failed",
        ("CSR-SIGN-FAILED",),
    ),
    Fault(
        "signer-never-issues",
        "the reference signer never writes a certificate or a Failed condition",
        ("CSR-SIGN-ISSUE",),
    ),
    Fault(
        "signer-foreign-ca",
        "the reference signer signs with a CA other than the one it publishes",
        ("CSR-SIGN-CHAIN",),
    ),
)

FAULTS: Final[dict[str, Fault]] = {
    f.name: f
    for f in (*_FAULT_LIST, *_WATCH_AND_LIST_FAULTS, *_SENSITIVITY_FAULTS, *_SIGNER_FAULTS)
}
"""Every fault the fake knows, by name."""


def check_fault_names(names: Iterable[str]) -> frozenset[str]:
    """Return ``names`` as a set, refusing any name the fake does not implement.

    Failing loudly matters: a misspelt fault would otherwise run the correct server and the
    self-check would wrongly report that a property cannot fail.
    """
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        known = ", ".join(sorted(FAULTS))
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known faults: {known}")
    return chosen


@dataclass(frozen=True)
class ActiveFaults:
    """The faults one server instance carries; ``on`` is the only question code asks."""

    names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_fault_names(self.names)

    def on(self, name: str) -> bool:
        """Whether fault ``name`` is active; an unknown name is a programming error."""
        if name not in FAULTS:
            raise KeyError(f"no fault named {name!r}")
        return name in self.names
