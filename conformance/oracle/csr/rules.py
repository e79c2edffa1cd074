"""The catalogue of rule ids the oracle, the fake and the properties share.

Every verdict the suite reports is keyed by one of these ids, so they must stay stable:
renaming one breaks report history and the fault/property cross-checks. The ``section``
points into ``shared/csr-semantics.md`` so a reader can find the upstream evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Rule:
    """One checkable statement about kube-apiserver's CSR behaviour."""

    id: str
    section: str
    summary: str


_RULE_LIST: Final[tuple[Rule, ...]] = (
    # --- metadata (§4.1, §3.1) ---
    Rule(
        "CSR-META-M1",
        "§4.1 M1",
        "Any name is accepted by the CSR name check (no DNS or length rules)",
    ),
    Rule("CSR-META-M2", "§4.1 M2", "metadata.name or metadata.generateName is required"),
    Rule(
        "CSR-META-M3",
        "§4.1 M3",
        "Path-segment name rules ('.', '..', '/', '%'), reported in a separate second 422",
    ),
    Rule(
        "CSR-META-M4",
        "§4.1 M4",
        "Labels, annotations, finalizers, ownerReferences and generation are validated",
    ),
    Rule("CSR-META-M5", "§4.1 M5", "Immutable metadata on update"),
    Rule("CSR-META-NS", "§3.1.5", "metadata.namespace in the body is silently cleared"),
    Rule(
        "CSR-META-SYS",
        "§3.1.5",
        "System fields (uid, creationTimestamp, deletionTimestamp, "
        "deletionGracePeriodSeconds, selfLink) from the client are wiped",
    ),
    Rule(
        "CSR-META-GEN",
        "§3.1.7",
        "generateName: prefix cut to 58 characters plus 5 from bcdfghjklmnpqrstvwxz2456789",
    ),
    Rule(
        "CSR-META-RV",
        "§3.1.10",
        "resourceVersion on create: a non-zero number gives 500, an unparseable one is ignored",
    ),
    # --- create (§3) ---
    Rule("CSR-CREATE-201", "§3.1.11", "A valid create returns 201 with the stored object"),
    Rule(
        "CSR-CREATE-PREP-ID",
        "§3.2.1",
        "spec.username/uid/groups/extra come from the authenticated caller, never the body",
    ),
    Rule("CSR-CREATE-PREP-STATUS", "§3.2.2", "status is wiped on create"),
    Rule(
        "CSR-CREATE-ROUNDTRIP",
        "§3.2.3",
        "request, signerName, usages and expirationSeconds round-trip unchanged",
    ),
    Rule("CSR-CREATE-EXISTS", "§3.1.10", "Creating an existing name gives 409 AlreadyExists"),
    Rule(
        "CSR-CREATE-DRYRUN",
        "§11.1",
        "A dry-run create answers like a real one but persists nothing",
    ),
    Rule(
        "CSR-CREATE-OPTS",
        "§3.1.2",
        "Invalid CreateOptions give 422 with details.kind CreateOptions",
    ),
    Rule(
        "CSR-CREATE-DECODE",
        "§3.1.3",
        "Undecodable bodies and JSON type errors give 400 (including base64 and int32 range)",
    ),
    Rule(
        "CSR-CREATE-FIELDVAL",
        "§3.1.3, §11.2",
        "Unknown/duplicate fields: Warn adds a Warning header, Ignore drops, Strict gives 400",
    ),
    Rule(
        "CSR-CREATE-APIVERSION",
        "§3.1.4",
        "apiVersion/kind default to the endpoint's; a mismatch is 400",
    ),
    Rule(
        "CSR-CREATE-ORDER", "§3.1", "When several things are wrong, the earliest pipeline step wins"
    ),
    # --- validation (§4) ---
    Rule("CSR-VAL-R1", "§4.2 R1", "spec.request's first PEM block must be a CERTIFICATE REQUEST"),
    Rule("CSR-VAL-R2", "§4.2 R2", "spec.request's DER must parse as PKCS#10"),
    Rule("CSR-VAL-R3", "§4.2 R3", "spec.request's self-signature must verify"),
    Rule("CSR-VAL-R4", "§4.2 R4", "No key type, size, subject or SAN checks on spec.request"),
    Rule("CSR-VAL-R5", "§4.2 R5", "spec.request that is not valid base64 fails decoding with 400"),
    Rule("CSR-VAL-U1", "§4.3 U1", "spec.usages is required and non-empty"),
    Rule("CSR-VAL-U2", "§4.3 U2", "Each usage must be one of the 23 known values"),
    Rule("CSR-VAL-U3", "§4.3 U3", "A repeated usage is a Duplicate at the later index"),
    Rule("CSR-VAL-U4", "§4.3 U4", "Usage order is preserved"),
    Rule("CSR-VAL-S1", "§4.4 S1", "kubernetes.io/legacy-unknown is not allowed"),
    Rule("CSR-VAL-S2", "§4.4 S2", "spec.signerName is required"),
    Rule("CSR-VAL-S3", "§4.4 S3", "signerName must be exactly 'domain/path'"),
    Rule(
        "CSR-VAL-S4", "§4.4 S4", "signerName domain: <=253 bytes, DNS labels, at least two labels"
    ),
    Rule("CSR-VAL-S5", "§4.4 S5", "signerName path: dot-separated DNS-1123 subdomains"),
    Rule("CSR-VAL-S6", "§4.4 S6", "signerName total length at most 571 bytes"),
    Rule("CSR-VAL-S7", "§4.4 S7", "kubernetes.io/* signer names get no special syntax treatment"),
    Rule("CSR-VAL-X1", "§4.5 X1", "expirationSeconds, if set, must be at least 600"),
    Rule("CSR-VAL-X2", "§4.5 X2", "expirationSeconds has no maximum in the API"),
    Rule("CSR-VAL-X3", "§4.5 X3", "expirationSeconds outside int32 fails decoding with 400"),
    Rule("CSR-VAL-C1", "§4.6 C1", "A condition type is required"),
    Rule("CSR-VAL-C2", "§4.6 C2", "A condition status is required"),
    Rule("CSR-VAL-C3", "§4.6 C3", "Condition status values (Approved/Denied/Failed only True)"),
    Rule("CSR-VAL-C4", "§4.6 C4", "Condition types are unique"),
    Rule("CSR-VAL-C5", "§4.6 C5", "Approved and Denied are mutually exclusive"),
    Rule("CSR-VAL-C6", "§4.6 C6", "Approved/Denied/Failed conditions may never be removed"),
    Rule("CSR-VAL-C7", "§4.6 C7", "Approved/Denied may be added or changed only through /approval"),
    Rule("CSR-VAL-K1", "§4.7 K1", "status.certificate must be CERTIFICATE PEM blocks only"),
    Rule("CSR-VAL-K2", "§4.7 K2", "status.certificate is not checked against the request"),
    Rule("CSR-VAL-K3", "§4.7 K3", "A set certificate is immutable"),
    Rule("CSR-VAL-K4", "§4.7 K4", "The certificate may be set only through /status"),
    Rule("CSR-VAL-K5", "§4.7 K5", "Unchanged or already-invalid certificates skip the PEM rules"),
    # --- admission (§6) ---
    Rule(
        "CSR-ADM-SUBJ",
        "§6.4",
        "kube-apiserver-client CSRs with O=system:masters are refused with 403 on create",
    ),
    Rule(
        "CSR-ADM-APPROVE",
        "§6.1, §6.3",
        "Every /approval write needs approve on signers/<old signerName> or <domain>/* (403)",
    ),
    Rule(
        "CSR-ADM-SIGN",
        "§6.2, §6.3",
        "A /status write that changes the certificate or conditions needs sign (403)",
    ),
    Rule(
        "CSR-AUTHZ-RBAC",
        "§6.3",
        "update/patch on the resource or subresource needs RBAC; refused before anything else",
    ),
    # --- updates (§4.1 M5, §5, §10, §12) ---
    Rule("CSR-IMM-SPEC", "§4.4 S8, §5", "spec never changes through any update endpoint"),
    Rule(
        "CSR-IMM-META",
        "§4.1 M5, §5",
        "uid, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds and generation "
        "are kept or immutable; no new finalizers while deleting",
    ),
    Rule(
        "CSR-SUB-MAIN-STATUS",
        "§5.1",
        "PUT/PATCH of the main resource silently keeps the old status",
    ),
    Rule(
        "CSR-SUB-APPROVAL",
        "§5.2",
        "/approval replaces the condition list and silently keeps the old certificate",
    ),
    Rule(
        "CSR-SUB-STATUS-AD",
        "§5.3",
        "/status reverts edits of Approved/Denied and rejects adding or removing them",
    ),
    Rule(
        "CSR-SUB-STATUS-CERT",
        "§4.7 K3, §5.3",
        "/status may set the certificate once; later changes are refused",
    ),
    Rule(
        "CSR-SUB-META",
        "§5",
        "labels, annotations, finalizers and ownerReferences change through all three endpoints",
    ),
    Rule(
        "CSR-SUB-TIME",
        "§5.4",
        "/approval and /status fill zero condition timestamps (lastTransitionTime carried over)",
    ),
    Rule(
        "CSR-SUB-NOOP",
        "§5",
        "A write that changes nothing persists nothing and keeps the resourceVersion",
    ),
    Rule("CSR-CONC-RV", "§12.3", "A stale resourceVersion gives 409 Conflict"),
    Rule("CSR-CONC-UNCOND", "§5, §12.3", "An empty resourceVersion updates unconditionally"),
    Rule("CSR-CONC-UID", "§12.4", "A PUT body uid that differs from the stored one gives 409"),
    Rule("CSR-UPD-404", "§5, §1.3", "PUT and non-apply PATCH of a missing name give 404"),
    Rule("CSR-UPD-NAME", "§5", "A body name that differs from the URL gives 400"),
    Rule(
        "CSR-UPD-DRYRUN",
        "§11.1",
        "A dry-run update answers like a real one but persists nothing",
    ),
    Rule(
        "CSR-UPD-DECODE",
        "§3.1.3, §5",
        "PUT bodies decode like create bodies (400, strict field validation, apiVersion)",
    ),
    Rule("CSR-PATCH-JSON", "§10.4", "JSON patch (RFC 6902, json-patch v4 semantics)"),
    Rule("CSR-PATCH-MERGE", "§10.5", "JSON merge patch (RFC 7386): lists replaced wholesale"),
    Rule(
        "CSR-PATCH-SMP",
        "§10.6",
        "Strategic merge patch: CSR lists replaced; finalizers and ownerReferences merged",
    ),
    Rule("CSR-PATCH-APPLY", "§10.9", "Server-side apply"),
    Rule("CSR-PATCH-415", "§10.1", "An unsupported patch Content-Type gives 415"),
    Rule(
        "CSR-WIRE-PROTOBUF",
        "§1",
        "CSRs read and written as application/vnd.kubernetes.protobuf equal their JSON form",
    ),
    Rule(
        "CSR-PATCH-OPTS",
        "§10.2",
        "Invalid PatchOptions/UpdateOptions give 422 with details.kind PatchOptions/UpdateOptions",
    ),
    Rule(
        "CSR-PATCH-FIELDVAL",
        "§10.7, §11.2",
        "Unknown or duplicate fields in a patch result: Warn warns, Strict gives 422",
    ),
    # --- reads (§7) ---
    Rule("CSR-READ-GET", "§7.1", "GET returns the stored object"),
    Rule("CSR-READ-404", "§7.1", "GET of a missing name gives 404 NotFound"),
    Rule(
        "CSR-READ-LIST",
        "§7.4, §7.7",
        "List: kind CertificateSigningRequestList, items never null, sorted by name, "
        "metadata.resourceVersion set",
    ),
    Rule(
        "CSR-SEL-LABEL",
        "§7.3",
        "Label selectors (=, ==, !=, in, notin, exists, !exists, several terms) select exactly "
        "the matching objects on list, watch and deletecollection; a parse error is a 400",
    ),
    Rule(
        "CSR-READ-PAGE",
        "§7.6",
        "limit/continue: every object once, in name order, all pages from the first page's "
        "snapshot, remainingItemCount exact, a malformed token 400, a compacted one 410",
    ),
    Rule(
        "CSR-READ-RV",
        "§7.5",
        "List resourceVersion and resourceVersionMatch: Exact reads that snapshot, NotOlderThan "
        "at least that new, too large 504, compacted 410, invalid combinations 422 ListOptions",
    ),
    # --- watch (§8) ---
    Rule(
        "CSR-WATCH-START",
        "§8.2",
        'A watch without resourceVersion, or from "0", first sends ADDED for every match; '
        "from N it sends exactly the changes after N",
    ),
    Rule(
        "CSR-WATCH-ORDER",
        "§8.1, §16",
        "Events arrive in resourceVersion order, each change once, none missing (ordered, "
        "unique, reliable), and watchers with the same start agree",
    ),
    Rule(
        "CSR-WATCH-FAITHFUL",
        "§8.5, §8.6",
        "Each event's object is what the write that caused it returned; DELETED carries the "
        "last state with the delete's resourceVersion; subresource writes are MODIFIED; no-op "
        "writes send nothing",
    ),
    Rule(
        "CSR-WATCH-FILTER",
        "§8.1, §8.4",
        "Watch honours label and field selectors; entering the selection is ADDED, leaving it "
        "is DELETED with the previous object at the new resourceVersion",
    ),
    Rule(
        "CSR-WATCH-EXPIRED",
        "§8.3",
        "A watch from a compacted resourceVersion is HTTP 200 with one ERROR event (410 "
        "Expired) and then ends; an unparseable resourceVersion is refused before streaming",
    ),
    Rule(
        "CSR-WATCH-BOOKMARK",
        "§8.7, §8.8",
        "Bookmarks only when asked, never going back, carrying only metadata.resourceVersion; "
        "sendInitialEvents ends the initial ADDEDs with the k8s.io/initial-events-end bookmark",
    ),
    Rule(
        "CSR-WATCH-RESUME",
        "§8.2, §16",
        "A watch resumed from the last resourceVersion it saw continues without loss or repeat",
    ),
    # --- delete (§9) ---
    Rule("CSR-DEL-STATUS", "§9.2", "DELETE answers with a Success Status (no code field)"),
    Rule("CSR-DEL-404", "§9.4", "DELETE of a missing name gives 404"),
    Rule("CSR-DEL-COLL", "§9.5", "deletecollection returns a list of the deleted items"),
    Rule(
        "CSR-DEL-PRECOND",
        "§9.4",
        "DELETE preconditions (uid, resourceVersion) give 409 on mismatch",
    ),
    Rule("CSR-DEL-DRYRUN", "§11.1", "A dry-run delete answers like a real one but deletes nothing"),
    Rule(
        "CSR-DEL-OPTS",
        "§9.1",
        "DeleteOptions are decoded (400) and validated (422) before the object is looked up; "
        "ignoreStoreReadErrorWithClusterBreakingPotential as the release treats it",
    ),
    # --- shape, discovery, auth ---
    Rule(
        "CSR-ERR-STATUS", "§13", "Every error body is a Status whose code matches the HTTP status"
    ),
    Rule(
        "CSR-DISC", "§1.2", "Discovery lists the resource and its approval and status subresources"
    ),
    Rule("CSR-AUTH-401", "§13", "Unauthenticated requests get 401 with a Status body"),
    # --- signers (references Part B §3; kube-controller-manager csrsigning) ---
    Rule(
        "CSR-SIGN-ISSUE",
        "refs B§3b",
        "An approved request the signer accepts gets a certificate within the deadline",
    ),
    Rule("CSR-SIGN-ONCE", "refs B§3b", "A certificate, once issued, is never changed or reissued"),
    Rule("CSR-SIGN-KEY", "refs B§3b", "The certificate certifies the request's public key"),
    Rule("CSR-SIGN-CHAIN", "refs B§3b", "The certificate verifies to the signer's CA bundle"),
    Rule(
        "CSR-SIGN-SUBJECT",
        "refs B§3b",
        "Subject and SANs follow the signer's policy; never a name that was not requested",
    ),
    Rule(
        "CSR-SIGN-USAGES",
        "refs B§3b",
        "KeyUsage/ExtKeyUsage follow spec.usages and the signer's policy; never CA:TRUE",
    ),
    Rule(
        "CSR-SIGN-LIFETIME",
        "refs B§3f",
        "Lifetime <= expirationSeconds + 5m backdate when set, and >= the 10-minute minimum",
    ),
    Rule("CSR-SIGN-CA-EXPIRY", "refs B§3f", "A certificate never outlives its CA"),
    Rule(
        "CSR-SIGN-NOTBEFORE",
        "refs B§3b",
        "notBefore is not in the future and backdated by at most 5 minutes",
    ),
    Rule(
        "CSR-SIGN-GATE",
        "refs B§3f",
        "Denied, unapproved and Failed requests never get a certificate",
    ),
    Rule("CSR-SIGN-OWN", "refs B§3f", "A signer never issues for another signer's requests"),
    Rule(
        "CSR-SIGN-FAILED",
        "refs B§3b",
        "A policy violation ends in Failed (SignerValidationFailure), never in a certificate",
    ),
)

RULES: Final[dict[str, Rule]] = {r.id: r for r in _RULE_LIST}
"""All rules by id, in catalogue order."""


def rule(id: str) -> Rule:
    """Return the rule named ``id``; an unknown id raises KeyError so typos fail loudly."""
    return RULES[id]
