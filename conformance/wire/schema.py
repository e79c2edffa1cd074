"""The CSR API's types, described once: JSON, protobuf, OpenAPI and merge semantics.

Each ``Field`` carries what the three consumers need:

- JSON: the name, and Go's rendering habits (``pointer`` fields appear only when set;
  ``omitempty`` drops zero values; ``omitzero`` drops a zero struct such as an unset
  ``creationTimestamp``; a non-pointer struct always appears, a zero ``metav1.Time``
  as ``null``).
- protobuf (``conformance.wire.protobuf``): the field ``number`` and wire ``kind``.
  Go's generated marshallers always write non-pointer scalars and structs, even when
  zero, and write pointers, byte slices, lists and maps only when set or non-empty.
- OpenAPI and server-side apply (``conformance.wire.openapi``,
``conformance.oracle.apimachinery.apply``):
  ``list_type``/``map_keys``, ``map_type``, ``required``, ``default``, ``enum``, formats,
  patch strategies and the description.

Facts come from ``k8s.io/api/certificates/v1`` (``types.go``, ``generated.proto``) and
``k8s.io/apimachinery/pkg/apis/meta/v1`` (``types.go``, ``generated.proto``,
``time_proto.go``, ``fieldsv1.go``) at v0.37.2. The descriptions are our own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

Kind = Literal[
    "string",
    "bytes",
    "int32",
    "int64",
    "bool",
    "time",
    "fieldsv1",
    "message",
    "string_map",
    "extra_map",
    "raw",
    "object",
]
"""Wire kinds. ``time`` is ``metav1.Time`` (a Timestamp message on the wire, an RFC 3339
string in JSON); ``fieldsv1`` holds raw JSON; ``string_map`` is ``map[string]string``;
``extra_map`` is ``map[string]ExtraValue`` (a JSON object of string lists); ``raw`` is
``runtime.RawExtension`` (embedded JSON); ``object`` is a free-form JSON object with no
protobuf form (the ``Patch`` body)."""

ListType = Literal["", "atomic", "map", "set"]

_UNSET: Final = object()


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    kind: Kind
    doc: str
    ref: str = ""
    """The message name for ``kind == "message"`` (also list elements)."""
    repeated: bool = False
    pointer: bool = False
    omitempty: bool = True
    omitzero: bool = False
    list_type: ListType = ""
    map_keys: tuple[str, ...] = ()
    required: bool = False
    default: object = _UNSET
    fmt: str = ""
    enum: tuple[str, ...] = ()
    patch_strategy: str = ""
    patch_merge_key: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not _UNSET


@dataclass(frozen=True)
class Message:
    name: str
    openapi_name: str
    doc: str
    fields: tuple[Field, ...]
    gvks: tuple[tuple[str, str, str], ...] = ()
    map_type: str = ""
    """``atomic`` when the whole object is one value for apply (OwnerReference)."""
    by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    @property
    def proto_fields(self) -> tuple[Field, ...]:
        """Fields in protobuf order (the order Go's marshaller writes them)."""
        return tuple(sorted((f for f in self.fields if f.number), key=lambda f: f.number))


META: Final = "io.k8s.apimachinery.pkg.apis.meta.v1"
CERTS: Final = "io.k8s.api.certificates.v1"

# The one statement of the allowed usages; the oracle validates against it.
KEY_USAGES: Final[tuple[str, ...]] = (
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
)
"""The 23 allowed ``spec.usages`` values (upstream's KeyUsage enum), sorted as Go's
``sets.String.List()`` sorts them (byte order)."""


def _type_meta() -> tuple[Field, Field]:
    """``kind`` and ``apiVersion``: JSON only; protobuf carries them in the envelope."""
    return (
        Field(
            "kind",
            0,
            "string",
            "The type of this document, in CamelCase. The server fills it in and "
            "ignores nothing but its own types; clients may leave it out on requests "
            "that name the resource in the URL.",
        ),
        Field(
            "apiVersion",
            0,
            "string",
            "The group and version this document follows, for example "
            "certificates.k8s.io/v1. It tells a reader which schema to apply.",
        ),
    )


def _msg(
    name: str,
    package: str,
    doc: str,
    fields: tuple[Field, ...],
    gvks: tuple[tuple[str, str, str], ...] = (),
    map_type: str = "",
) -> Message:
    return Message(name, f"{package}.{name}", doc, fields, gvks, map_type)


_OBJECT_META = _msg(
    "ObjectMeta",
    META,
    "Bookkeeping every stored object carries: its identity, labels and annotations, "
    "ownership and deletion state, and the record of which client set which fields.",
    (
        Field(
            "name",
            1,
            "string",
            "The object's unique name within its scope. It cannot change after creation. "
            "CertificateSigningRequests allow any name that is a valid URL path segment.",
        ),
        Field(
            "generateName",
            2,
            "string",
            "A prefix the server uses to make up a unique name when name is empty: it "
            "appends five random characters. Ignored when name is set.",
        ),
        Field(
            "namespace",
            3,
            "string",
            "The namespace the object lives in. CertificateSigningRequests are "
            "cluster-scoped, so the server clears this field.",
        ),
        Field(
            "selfLink",
            4,
            "string",
            "Unused legacy field; current servers never fill it in.",
        ),
        Field(
            "uid",
            5,
            "string",
            "A value the server generates at creation that is unique across time: a new "
            "object with the same name gets a different uid. Read-only.",
        ),
        Field(
            "resourceVersion",
            6,
            "string",
            "An opaque token that changes on every write. Send it back on an update to "
            "make the write conditional on nobody else having written in between; "
            "compare tokens only for equality.",
        ),
        Field(
            "generation",
            7,
            "int64",
            "A counter some resources bump when their desired state changes. Read-only.",
        ),
        Field(
            "creationTimestamp",
            8,
            "time",
            "When the server stored the object, in UTC with second precision. Read-only.",
            ref="Time",
            omitzero=True,
        ),
        Field(
            "deletionTimestamp",
            9,
            "time",
            "Set by the server when deletion was requested but finalizers still hold the "
            "object; the object disappears once the last finalizer is removed. Read-only.",
            ref="Time",
            pointer=True,
        ),
        Field(
            "deletionGracePeriodSeconds",
            10,
            "int64",
            "How many seconds the object was given to go away after deletion was "
            "requested. Read-only.",
            pointer=True,
        ),
        Field(
            "labels",
            11,
            "string_map",
            "Key/value pairs for grouping and selecting objects (label selectors match on them).",
        ),
        Field(
            "annotations",
            12,
            "string_map",
            "Key/value pairs for tools to store extra data; not used for selection.",
        ),
        Field(
            "ownerReferences",
            13,
            "message",
            "Objects this one depends on. When every owner is gone, the garbage "
            "collector deletes this object. At most one entry may be the controller.",
            ref="OwnerReference",
            repeated=True,
            list_type="map",
            map_keys=("uid",),
            patch_strategy="merge",
            patch_merge_key="uid",
        ),
        Field(
            "finalizers",
            14,
            "string",
            "Names of clean-up steps that must finish before the object is removed. "
            "While any remain, a deletion only sets deletionTimestamp.",
            repeated=True,
            list_type="set",
            patch_strategy="merge",
        ),
        Field(
            "managedFields",
            17,
            "message",
            "Which field managers (clients) last set which fields, and through which "
            "operation. Maintained by the server for server-side apply.",
            ref="ManagedFieldsEntry",
            repeated=True,
            list_type="atomic",
        ),
    ),
)

_LIST_META = _msg(
    "ListMeta",
    META,
    "Bookkeeping for a list response: where it sits in the store's history and how to "
    "fetch the next page.",
    (
        Field("selfLink", 1, "string", "Unused legacy field; current servers leave it empty."),
        Field(
            "resourceVersion",
            2,
            "string",
            "The store version this list reflects; start a watch from it to see every "
            "later change.",
        ),
        Field(
            "continue",
            3,
            "string",
            "Set when more items remain: pass it as the continue parameter to fetch the "
            "next page. It expires after a while.",
        ),
        Field(
            "remainingItemCount",
            4,
            "int64",
            "An estimate of how many items the later pages hold, when the server knows.",
            pointer=True,
        ),
        Field(
            "shardInfo",
            5,
            "message",
            "Which shard of the collection this list covers, when the request asked for one.",
            ref="ShardInfo",
            pointer=True,
        ),
    ),
)

_SHARD_INFO = _msg(
    "ShardInfo",
    META,
    "Describes the slice of a collection a sharded list or watch returned.",
    (
        Field(
            "selector",
            1,
            "string",
            "The shard selector the server applied.",
            omitempty=False,
            required=True,
            default="",
        ),
    ),
)

_MANAGED_FIELDS_ENTRY = _msg(
    "ManagedFieldsEntry",
    META,
    "One field manager's claim: the fields it set, how (Apply or Update), through which "
    "API version and subresource, and when.",
    (
        Field("manager", 1, "string", "The name of the client that owns these fields."),
        Field(
            "operation",
            2,
            "string",
            "Apply for server-side apply, Update for every other kind of write.",
        ),
        Field(
            "apiVersion",
            3,
            "string",
            "The API version the field set is expressed in; the server converts it when "
            "the object is read in another version.",
        ),
        Field(
            "time",
            4,
            "time",
            "When this manager last changed one of its fields.",
            ref="Time",
            pointer=True,
        ),
        Field(
            "fieldsType",
            6,
            "string",
            "The encoding of fieldsV1; FieldsV1 is the only one defined.",
        ),
        Field(
            "fieldsV1",
            7,
            "fieldsv1",
            "The set of owned fields as a trie of path elements (f:, k:, v:, i:).",
            ref="FieldsV1",
            pointer=True,
        ),
        Field(
            "subresource",
            8,
            "string",
            "The subresource the write went through (status, approval), or empty for "
            "the object itself. Claims through different subresources are separate.",
        ),
    ),
)

_OWNER_REFERENCE = _msg(
    "OwnerReference",
    META,
    "Points at an object that owns this one, for garbage collection. Owners must be "
    "cluster-scoped, or in the same namespace.",
    (
        Field(
            "apiVersion",
            5,
            "string",
            "The owner's API version.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "kind",
            1,
            "string",
            "The owner's kind.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "name",
            3,
            "string",
            "The owner's name.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "uid",
            4,
            "string",
            "The owner's uid; a reference to a re-created owner with a new uid does not match.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "controller",
            6,
            "bool",
            "True when the owner is the managing controller; only one owner may be.",
            pointer=True,
        ),
        Field(
            "blockOwnerDeletion",
            7,
            "bool",
            "When true, a foreground deletion of the owner waits for this object to go "
            "first. Setting it needs delete permission on the owner.",
            pointer=True,
        ),
    ),
    map_type="atomic",
)

_STATUS_CAUSE = _msg(
    "StatusCause",
    META,
    "One specific reason a request failed, often tied to a field.",
    (
        Field(
            "reason",
            1,
            "string",
            "A machine-readable code for this cause, such as FieldValueInvalid.",
        ),
        Field("message", 2, "string", "A human-readable explanation of this cause."),
        Field(
            "field",
            3,
            "string",
            "The field the cause refers to, as a dotted path with [i] for list indexes.",
        ),
    ),
)

_STATUS_DETAILS = _msg(
    "StatusDetails",
    META,
    "Extra data about a failure: which object, and the individual causes.",
    (
        Field("name", 1, "string", "The name of the object the failure concerns."),
        Field("group", 2, "string", "The API group of that object."),
        Field(
            "kind",
            3,
            "string",
            "The kind (or, for some errors, the resource) of that object.",
        ),
        Field("uid", 6, "string", "The uid of that object, when known."),
        Field(
            "causes",
            4,
            "message",
            "The individual causes, when the failure has several.",
            ref="StatusCause",
            repeated=True,
            list_type="atomic",
        ),
        Field(
            "retryAfterSeconds",
            5,
            "int32",
            "How long the client should wait before retrying, when the server suggests it.",
        ),
    ),
)

_STATUS = _msg(
    "Status",
    META,
    "The result of a call that does not return an object: errors, and some deletions.",
    (
        *_type_meta(),
        Field(
            "metadata",
            1,
            "message",
            "List metadata; normally empty.",
            ref="ListMeta",
            omitempty=False,
            default={},
        ),
        Field("status", 2, "string", "Success or Failure."),
        Field("message", 3, "string", "A human-readable description of the outcome."),
        Field(
            "reason",
            4,
            "string",
            "A machine-readable reason such as NotFound, Conflict or Invalid; empty when "
            "the server has none.",
        ),
        Field(
            "details",
            5,
            "message",
            "Extra data about the failure; its content depends on reason.",
            ref="StatusDetails",
            pointer=True,
        ),
        Field("code", 6, "int32", "The HTTP status code of the response, when known."),
    ),
    gvks=(("", "v1", "Status"),),
)

_PRECONDITIONS = _msg(
    "Preconditions",
    META,
    "Conditions the stored object must meet for a deletion to go ahead.",
    (
        Field("uid", 1, "string", "Delete only if the object still has this uid.", pointer=True),
        Field(
            "resourceVersion",
            2,
            "string",
            "Delete only if the object is still at this resource version.",
            pointer=True,
        ),
    ),
)

_DELETE_OPTIONS = _msg(
    "DeleteOptions",
    META,
    "Options for a delete request.",
    (
        *_type_meta(),
        Field(
            "gracePeriodSeconds",
            1,
            "int64",
            "Seconds to wait before deleting; resources without graceful deletion (such as "
            "CertificateSigningRequests) ignore it.",
            pointer=True,
        ),
        Field(
            "preconditions",
            2,
            "message",
            "Conditions that must hold, or the deletion fails with a conflict.",
            ref="Preconditions",
            pointer=True,
        ),
        Field(
            "orphanDependents",
            3,
            "bool",
            "Deprecated: use propagationPolicy. True orphans dependents instead of deleting them.",
            pointer=True,
        ),
        Field(
            "propagationPolicy",
            4,
            "string",
            "How dependents are handled: Orphan, Background or Foreground.",
            pointer=True,
        ),
        Field(
            "dryRun",
            5,
            "string",
            "When it holds All, the server checks the request but does not delete.",
            repeated=True,
            list_type="atomic",
        ),
        Field(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            6,
            "bool",
            "Deletes an object the server cannot read back from storage. Dangerous; "
            "needs its own permission.",
            pointer=True,
        ),
    ),
    gvks=(("", "v1", "DeleteOptions"), ("certificates.k8s.io", "v1", "DeleteOptions")),
)

_CONDITION = _msg(
    "CertificateSigningRequestCondition",
    CERTS,
    "One condition of a request: approved, denied, failed, or a custom one.",
    (
        Field(
            "type",
            1,
            "string",
            "The condition's type. Approved, Denied and Failed have fixed meanings and "
            "must have status True; any other value is a custom condition. Types are "
            "unique within the list.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "status",
            6,
            "string",
            "True, False or Unknown.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field("reason", 2, "string", "A short machine-readable reason for the condition."),
        Field("message", 3, "string", "A human-readable explanation of the condition."),
        Field(
            "lastUpdateTime",
            4,
            "time",
            "When the condition was last written; the server fills it in when empty.",
            ref="Time",
        ),
        Field(
            "lastTransitionTime",
            5,
            "time",
            "When the condition last changed status; the server fills it in when empty, "
            "keeping the earlier time if the status did not change.",
            ref="Time",
        ),
    ),
)

_SPEC = _msg(
    "CertificateSigningRequestSpec",
    CERTS,
    "What is being asked for. The whole spec is fixed once the request is created.",
    (
        Field(
            "request",
            1,
            "bytes",
            "A PEM-encoded PKCS#10 certificate request (a CERTIFICATE REQUEST block). The "
            "server checks its signature; the signer decides what to issue.",
            omitempty=False,
            required=True,
        ),
        Field(
            "signerName",
            7,
            "string",
            "Which signer should handle the request, as a domain and a path, for example "
            "example.com/my-signer. Well-known signers live under kubernetes.io/. "
            "Approve and sign permissions are granted per signer name.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "expirationSeconds",
            8,
            "int32",
            "How long the issued certificate should be valid, in seconds; at least 600. "
            "A signer may honour it, shorten it, or ignore it.",
            pointer=True,
        ),
        Field(
            "usages",
            5,
            "string",
            "The key usages and extended key usages asked for. Each value may appear only once.",
            repeated=True,
            list_type="atomic",
            enum=KEY_USAGES,
        ),
        Field(
            "username",
            2,
            "string",
            "The user who created the request. Set by the server from the caller's "
            "credentials; values sent by clients are replaced.",
        ),
        Field(
            "uid",
            3,
            "string",
            "The uid of the user who created the request. Set by the server.",
        ),
        Field(
            "groups",
            4,
            "string",
            "The groups of the user who created the request. Set by the server.",
            repeated=True,
            list_type="atomic",
        ),
        Field(
            "extra",
            6,
            "extra_map",
            "Extra attributes of the user who created the request, as the authenticator "
            "reported them. Set by the server.",
        ),
    ),
)

_CSR_STATUS = _msg(
    "CertificateSigningRequestStatus",
    CERTS,
    "What happened to the request: the approval decision and the issued certificate.",
    (
        Field(
            "conditions",
            1,
            "message",
            "The request's conditions, one per type. Approved and Denied exclude each "
            "other, and Approved, Denied and Failed can never be removed once set.",
            ref="CertificateSigningRequestCondition",
            repeated=True,
            list_type="map",
            map_keys=("type",),
        ),
        Field(
            "certificate",
            2,
            "bytes",
            "The issued certificate chain as PEM CERTIFICATE blocks, filled in by the "
            "signer through the status subresource. Once set it cannot change.",
            list_type="atomic",
        ),
    ),
)

CSR: Final = _msg(
    "CertificateSigningRequest",
    CERTS,
    "A request for a signed X.509 certificate. A client creates it with a PKCS#10 "
    "request and a signer name; an approver marks it Approved or Denied through the "
    "approval subresource; the named signer then puts the certificate in status through "
    "the status subresource.",
    (
        *_type_meta(),
        Field(
            "metadata",
            1,
            "message",
            "Standard object metadata.",
            ref="ObjectMeta",
            default={},
        ),
        Field(
            "spec",
            2,
            "message",
            "The request itself. It cannot be changed after creation.",
            ref="CertificateSigningRequestSpec",
            omitempty=False,
            required=True,
            default={},
        ),
        Field(
            "status",
            3,
            "message",
            "The decision and the result; written only through the approval and status "
            "subresources.",
            ref="CertificateSigningRequestStatus",
            default={},
        ),
    ),
    gvks=(("certificates.k8s.io", "v1", "CertificateSigningRequest"),),
)

CSR_LIST: Final = _msg(
    "CertificateSigningRequestList",
    CERTS,
    "A page of CertificateSigningRequests.",
    (
        *_type_meta(),
        Field("metadata", 1, "message", "Standard list metadata.", ref="ListMeta", default={}),
        Field(
            "items",
            2,
            "message",
            "The requests on this page, sorted by name.",
            ref="CertificateSigningRequest",
            repeated=True,
            omitempty=False,
            required=True,
        ),
    ),
    gvks=(("certificates.k8s.io", "v1", "CertificateSigningRequestList"),),
)

_API_RESOURCE = _msg(
    "APIResource",
    META,
    "One resource a group version serves, as discovery describes it.",
    (
        Field(
            "name",
            0,
            "string",
            "The plural resource name, or resource/subresource.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "singularName",
            0,
            "string",
            "The singular name, used by kubectl.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "namespaced",
            0,
            "bool",
            "Whether objects of this resource live in namespaces.",
            omitempty=False,
            required=True,
            default=False,
        ),
        Field("group", 0, "string", "The group of the kind, when it differs from the list's."),
        Field(
            "version",
            0,
            "string",
            "The version of the kind, when it differs from the list's.",
        ),
        Field(
            "kind",
            0,
            "string",
            "The kind the resource serves.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "verbs",
            0,
            "string",
            "The verbs the resource supports (get, list, create, ...).",
            repeated=True,
            omitempty=False,
            required=True,
        ),
        Field(
            "shortNames",
            0,
            "string",
            "Short aliases, such as csr.",
            repeated=True,
            list_type="atomic",
        ),
        Field(
            "categories",
            0,
            "string",
            "Groupings such as all.",
            repeated=True,
            list_type="atomic",
        ),
        Field(
            "storageVersionHash",
            0,
            "string",
            "A hash of the storage version, for tools that detect storage migrations.",
        ),
    ),
)

_API_RESOURCE_LIST = _msg(
    "APIResourceList",
    META,
    "The resources one group version serves.",
    (
        *_type_meta(),
        Field(
            "groupVersion",
            0,
            "string",
            "The group version described.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "resources",
            0,
            "message",
            "The resources served.",
            ref="APIResource",
            repeated=True,
            omitempty=False,
            required=True,
            list_type="atomic",
        ),
    ),
    gvks=(("", "v1", "APIResourceList"),),
)

_WATCH_EVENT = _msg(
    "WatchEvent",
    META,
    "One event of a watch stream.",
    (
        Field(
            "type",
            1,
            "string",
            "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.",
            omitempty=False,
            required=True,
            default="",
        ),
        Field(
            "object",
            2,
            "raw",
            "The object after the change; for DELETED its last state; for ERROR a Status; "
            "for BOOKMARK only its resourceVersion.",
            ref="RawExtension",
            omitempty=False,
            required=True,
        ),
    ),
    gvks=(("", "v1", "WatchEvent"), ("certificates.k8s.io", "v1", "WatchEvent")),
)

MESSAGES: Final[dict[str, Message]] = {
    m.name: m
    for m in (
        CSR,
        CSR_LIST,
        _SPEC,
        _CSR_STATUS,
        _CONDITION,
        _OBJECT_META,
        _LIST_META,
        _SHARD_INFO,
        _MANAGED_FIELDS_ENTRY,
        _OWNER_REFERENCE,
        _STATUS,
        _STATUS_DETAILS,
        _STATUS_CAUSE,
        _PRECONDITIONS,
        _DELETE_OPTIONS,
        _API_RESOURCE,
        _API_RESOURCE_LIST,
        _WATCH_EVENT,
    )
}
"""Every message by its short Go name."""

SCALAR_DOCS: Final[dict[str, tuple[str, str]]] = {
    "Time": (
        f"{META}.Time",
        "A point in time, written in RFC 3339 form in UTC with second precision, for "
        "example 2025-01-02T03:04:05Z.",
    ),
    "FieldsV1": (
        f"{META}.FieldsV1",
        "A set of field paths in the FieldsV1 trie encoding: each key is a path element "
        "(f:<name> for a field, k:<json> for a keyed list item, v:<json> for a set member, "
        "i:<n> for an index) and '.' marks the node itself as a member.",
    ),
    "RawExtension": (
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "An embedded object in its own serialization, carried without interpretation.",
    ),
    "Patch": (
        f"{META}.Patch",
        "A patch document; its format is given by the request's Content-Type "
        "(JSON patch, merge patch, strategic merge patch or apply configuration).",
    ),
}
"""Types that are not objects with fields: OpenAPI name and description."""

TOP_LEVEL_KINDS: Final[dict[str, tuple[str, str]]] = {
    "CertificateSigningRequest": ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    "CertificateSigningRequestList": ("certificates.k8s.io/v1", "CertificateSigningRequestList"),
    "Status": ("v1", "Status"),
    "DeleteOptions": ("meta.k8s.io/v1", "DeleteOptions"),
}
"""kind -> (default apiVersion, message name) for documents that travel on their own."""


def go_field_order(message: Message) -> tuple[str, ...]:
    """The JSON names of a message's fields in Go struct order: the order Go's encoder
    writes them in."""
    return tuple(f.name for f in message.fields)


def omitted_when_empty(message: Message) -> frozenset[str]:
    """The fields Go's encoder leaves out when empty: ``omitempty`` ones, except a struct
    held by value (``creationTimestamp``), which ``omitempty`` cannot omit."""
    return frozenset(
        f.name
        for f in message.fields
        if f.omitempty and not (f.kind in ("time", "message") and not f.pointer and not f.repeated)
    )


OBJECT_META_FIELDS: Final = go_field_order(_OBJECT_META)
"""ObjectMeta's JSON fields in the order kube-apiserver writes them."""

OBJECT_META_OMITTED_WHEN_EMPTY: Final = omitted_when_empty(_OBJECT_META)
"""ObjectMeta fields absent from kube-apiserver's JSON when empty."""
