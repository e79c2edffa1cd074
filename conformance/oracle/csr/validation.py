"""Validation of a CertificateSigningRequest, as kube-apiserver v1.37 runs it.

Objects here are the v1 wire shape (plain dicts, as :mod:`conformance.oracle.apimachinery.decode`
returns
them): ``spec.request`` and ``status.certificate`` are base64 strings, absent fields are
absent. Everything is computed in upstream's order so that ``details.causes`` and the
aggregated message come out in the same order as the real server's.

Upstream (v1.37.2 source):
- ``pkg/apis/certificates/validation/validation.go`` — ``validateCertificateSigningRequest``
  (object meta, request, usages, signerName, expirationSeconds, conditions, certificate),
  the update variants and the compatibility options;
- apimachinery ``pkg/api/validation/objectmeta.go`` and ``pkg/apis/meta/v1/validation``
  (labels, annotations, owner references, finalizers, generation) plus the core
  ``validateKubeFinalizerName`` appended after them;
- apiserver ``pkg/registry/rest/create.go`` ``ValidateCreate`` — the path-segment name rules
  (M3) run only when the strategy returned no errors, then declarative validation;
- ``pkg/apis/certificates/v1/zz_generated.validations.go`` — a *beta* (so enforced by
  default in 1.37) zero-or-one-of union over Approved/Denied, which replaces the
  handwritten "mutually exclusive" error (see :func:`apply_declarative`).

Map iteration in Go is random: with several bad labels or annotations the real server
reports them in an unpredictable order. We report them in the dict's order; compare
such causes as a multiset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.changes import (
    DECLARATIVE_APPROVAL_UNION,
    DEDUPLICATED_CAUSES,
    INDEXED_OWNER_REFERENCES,
    LABEL_CONTENT_PACKAGE,
)
from conformance.oracle.csr.request import validate_request
from conformance.oracle.csr.signer import validate_csr_signer_name
from conformance.oracle.golang.decoders import CorruptInputError, b64decode, pem_decode
from conformance.oracle.versions import KubeVersion, release
from conformance.wire.schema import KEY_USAGES

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------

VALID_USAGES: Final[tuple[str, ...]] = KEY_USAGES
"""The 23 usages, sorted as Go's ``sets.String.List()`` sorts them (byte order); the
schema states them once (``conformance.wire.schema.KEY_USAGES``)."""

_VALID_USAGE_SET: Final = frozenset(VALID_USAGES)

APPROVED: Final = "Approved"
DENIED: Final = "Denied"
FAILED: Final = "Failed"
TRUE_ONLY_TYPES: Final = frozenset({APPROVED, DENIED, FAILED})
ALL_STATUS_VALUES: Final[tuple[str, ...]] = ("False", "True", "Unknown")
TRUE_ONLY_VALUES: Final[tuple[str, ...]] = ("True",)

MIN_EXPIRATION_SECONDS: Final = 600
EXPIRATION_MESSAGE: Final = "may not specify a duration less than 600 seconds (10 minutes)"
MUTUALLY_EXCLUSIVE_MESSAGE: Final = "Approved and Denied conditions are mutually exclusive"
CERTIFICATE_BAD_VALUE: Final = "<certificate data>"

TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * (1 << 10)
NAME_REQUIRED_MESSAGE: Final = "name or generateName is required"
NEGATIVE_MESSAGE: Final = "must be greater than or equal to 0"
STANDARD_FINALIZERS: Final = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

# DV union for status.conditions (beta; enforced with DeclarativeValidationBeta, on by
# default in 1.37).
_UNION_MEMBERS: Final = ('conditions[{"type": "Approved"}]', 'conditions[{"type": "Denied"}]')


@dataclass(frozen=True)
class ValidationOptions:
    """Go's ``certificateValidationOptions``; all false on create."""

    allow_setting_approval_conditions: bool = False
    allow_setting_certificate: bool = False
    allow_both_approved_and_denied: bool = False
    allow_resetting_certificate: bool = False
    allow_legacy_signer_name: bool = False
    allow_duplicate_condition_types: bool = False
    allow_empty_condition_type: bool = False
    allow_arbitrary_certificate: bool = False
    allow_unknown_usages: bool = False
    allow_duplicate_usages: bool = False


# ---------------------------------------------------------------------------
# accessors over the wire dict
# ---------------------------------------------------------------------------


def _map(obj: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    if obj is None:
        return {}
    v = obj.get(key)
    return v if isinstance(v, Mapping) else {}


def _str(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    return v if isinstance(v, str) else ""


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    v = obj.get(key)
    return list(v) if isinstance(v, list) else []


def bytes_field(obj: Mapping[str, Any], key: str) -> bytes | None:
    """A ``[]byte`` field: ``None`` for absent/null (Go nil), else the decoded bytes."""
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bytes | bytearray):
        return bytes(v)
    if not isinstance(v, str):
        return None
    try:
        return b64decode(v.encode("utf-8", errors="surrogatepass"))
    except CorruptInputError:
        return None


def spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(obj, "spec")


def status_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(obj, "status")


def conditions_of(obj: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if obj is None:
        return []
    return [c if isinstance(c, Mapping) else {} for c in _list(status_of(obj), "conditions")]


def certificate_of(obj: Mapping[str, Any] | None) -> bytes:
    if obj is None:
        return b""
    return bytes_field(status_of(obj), "certificate") or b""


def usages_of(obj: Mapping[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return [u if isinstance(u, str) else "" for u in _list(spec_of(obj), "usages")]


# ---------------------------------------------------------------------------
# object meta (M2, M4) and path segments (M3)
# ---------------------------------------------------------------------------

_LABEL_KEY_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_ERR: Final = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_FMT: Final = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_ERR: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_LABEL_KEY_RE: Final = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_RE: Final = re.compile(_LABEL_VALUE_FMT)
_DNS_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_FMT: Final = _DNS_LABEL_FMT + "(\\." + _DNS_LABEL_FMT + ")*"
_DNS_SUBDOMAIN_RE: Final = re.compile(_DNS_SUBDOMAIN_FMT)
_DNS_SUBDOMAIN_ERR: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)


def _blen(s: str) -> int:
    return len(s.encode("utf-8", errors="surrogatepass"))


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _content_max_len(n: int) -> str:
    # api/validate/content.MaxLenError says "bytes"; util/validation's, which label keys
    # and values went through before 1.35, says "characters".
    unit = "bytes" if LABEL_CONTENT_PACKAGE.applies(release()) else "characters"
    return f"must be no more than {n} {unit}"


def _content_dns1123_subdomain(value: str) -> list[str]:
    errs: list[str] = []
    if _blen(value) > 253:
        errs.append(_content_max_len(253))
    if _DNS_SUBDOMAIN_RE.fullmatch(value) is None:
        errs.append(_regex_error(_DNS_SUBDOMAIN_ERR, _DNS_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """``content.IsLabelKey`` (a.k.a. IsQualifiedName)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if prefix == "":
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _content_dns1123_subdomain(prefix))
    else:
        noun = (
            "a valid label key "
            if LABEL_CONTENT_PACKAGE.applies(release())
            else ("a qualified name ")
        )
        return [
            noun
            + _regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if name == "":
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part " + _content_max_len(63))
    if _LABEL_KEY_RE.fullmatch(name) is None:
        errs.append(
            "name part "
            + _regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_label_value(value: str) -> list[str]:
    """``content.IsLabelValue``."""
    errs: list[str] = []
    if _blen(value) > 63:
        errs.append(_content_max_len(63))
    if _LABEL_VALUE_RE.fullmatch(value) is None:
        errs.append(
            _regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def _owner_ref_json(ref: Mapping[str, Any]) -> str:
    # metav1.OwnerReference marshals in declaration order; controller and
    # blockOwnerDeletion are omitempty pointers.
    parts = [
        f'"apiVersion":{fe.go_json_string(_str(ref, "apiVersion"))}',
        f'"kind":{fe.go_json_string(_str(ref, "kind"))}',
        f'"name":{fe.go_json_string(_str(ref, "name"))}',
        f'"uid":{fe.go_json_string(_str(ref, "uid"))}',
    ]
    for key in ("controller", "blockOwnerDeletion"):
        v = ref.get(key)
        if isinstance(v, bool):
            parts.append(f'"{key}":{"true" if v else "false"}')
    return "{" + ",".join(parts) + "}"


def _parse_group_version(gv: str) -> tuple[str, str] | None:
    if gv in ("", "/"):
        return "", ""
    n = gv.count("/")
    if n == 0:
        return "", gv
    if n == 1:
        g, v = gv.split("/")
        return g, v
    return None


def _owner_reference_errors(ref: Mapping[str, Any], p: str) -> list[fe.FieldError]:
    """``validateOwnerReference`` as 1.37 words it: indexed paths, Required for empties."""
    errs: list[fe.FieldError] = []
    api_version = _str(ref, "apiVersion")
    gv = _parse_group_version(api_version)
    if api_version == "":
        errs.append(fe.required("CSR-META-M4", f"{p}.apiVersion", "must not be empty"))
    elif gv is None or gv[1] == "":
        errs.append(
            fe.invalid(
                "CSR-META-M4",
                f"{p}.apiVersion",
                api_version,
                "must be <group>/<version> or <version>",
            )
        )
    for key in ("kind", "name", "uid"):
        if _str(ref, key) == "":
            errs.append(fe.required("CSR-META-M4", f"{p}.{key}", "must not be empty"))
    return errs


def _legacy_owner_reference_errors(ref: Mapping[str, Any], p: str) -> list[fe.FieldError]:
    """``validateOwnerReference`` before 1.37: ``schema.FromAPIVersionAndKind`` (an
    unparseable apiVersion has no version), Invalid for every empty field."""
    errs: list[fe.FieldError] = []
    gv = _parse_group_version(_str(ref, "apiVersion"))
    if gv is None or gv[1] == "":
        errs.append(
            fe.invalid(
                "CSR-META-M4",
                f"{p}.apiVersion",
                _str(ref, "apiVersion"),
                "version must not be empty",
            )
        )
    for key in ("kind", "name", "uid"):
        if _str(ref, key) == "":
            errs.append(fe.invalid("CSR-META-M4", f"{p}.{key}", "", "must not be empty"))
    return errs


def _validate_owner_references(refs: list[Any], path: str) -> list[fe.FieldError]:
    errs: list[fe.FieldError] = []
    first_controller = ""
    maps = [r if isinstance(r, Mapping) else {} for r in refs]
    indexed = INDEXED_OWNER_REFERENCES.applies(release())
    for i, ref in enumerate(maps):
        p = f"{path}[{i}]" if indexed else path
        if indexed:
            errs.extend(_owner_reference_errors(ref, p))
        else:
            errs.extend(_legacy_owner_reference_errors(ref, p))
        gv = _parse_group_version(_str(ref, "apiVersion"))
        group, version = gv if gv is not None else ("", "")
        if group == "" and version == "v1" and _str(ref, "kind") == "Event":
            errs.append(
                fe.invalid(
                    "CSR-META-M4",
                    p,
                    fe.RawJSON(_owner_ref_json(ref)),
                    "/v1, Kind=Event is disallowed from being an owner",
                )
            )
        if ref.get("controller") is True:
            current = f"{_str(ref, 'kind')}/{_str(ref, 'name')}"
            if first_controller:
                all_json = "[" + ",".join(_owner_ref_json(r) for r in maps) + "]"
                errs.append(
                    fe.invalid(
                        "CSR-META-M4",
                        path,
                        fe.RawJSON(all_json),
                        "Only one reference can have Controller set to true. Found "
                        f'"true" in references for {first_controller} and {current}',
                    )
                )
            else:
                first_controller = current
    return errs


def validate_object_meta(obj: Mapping[str, Any]) -> list[fe.FieldError]:
    """``ValidateObjectMeta`` with the CSR name function (which accepts any name)."""
    meta = _map(obj, "metadata")
    errs: list[fe.FieldError] = []
    if _str(meta, "name") == "":
        errs.append(fe.required("CSR-META-M2", "metadata.name", NAME_REQUIRED_MESSAGE))
    errs.extend(_validate_meta_common(meta))
    for i, fin in enumerate(_list(meta, "finalizers")):
        f = fin if isinstance(fin, str) else ""
        if "/" not in f and f not in STANDARD_FINALIZERS:
            errs.append(
                fe.invalid(
                    "CSR-META-M4",
                    f"metadata.finalizers[{i}]",
                    f,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


def validate_labels_annotations_owners(meta: Mapping[str, Any]) -> list[fe.FieldError]:
    """``ValidateLabels``, ``ValidateAnnotations`` and ``ValidateOwnerReferences``: the part
    of ObjectMeta validation that both the create-time and the update-time checks run (so
    an update reports each of these errors more than once; see ``validate_update``)."""
    errs: list[fe.FieldError] = []
    labels = _map(meta, "labels")
    for k, v in labels.items():
        for msg in is_qualified_name(str(k)):
            errs.append(fe.invalid("CSR-META-M4", "metadata.labels", str(k), msg))
        for msg in is_label_value(v if isinstance(v, str) else ""):
            errs.append(fe.invalid("CSR-META-M4", "metadata.labels", v, msg))
    annotations = _map(meta, "annotations")
    total = 0
    for k, v in annotations.items():
        for msg in is_qualified_name(str(k).lower()):
            errs.append(fe.invalid("CSR-META-M4", "metadata.annotations", str(k), msg))
        total += _blen(str(k)) + _blen(v if isinstance(v, str) else "")
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(fe.too_long("CSR-META-M4", "metadata.annotations", TOTAL_ANNOTATION_SIZE_LIMIT))
    errs.extend(
        _validate_owner_references(_list(meta, "ownerReferences"), "metadata.ownerReferences")
    )
    return errs


def _validate_meta_common(meta: Mapping[str, Any]) -> list[fe.FieldError]:
    errs: list[fe.FieldError] = []
    if _str(meta, "namespace") != "":
        errs.append(fe.forbidden("CSR-META-NS", "metadata.namespace", "not allowed on this type"))
    generation = meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation < 0:
        errs.append(fe.invalid("CSR-META-M4", "metadata.generation", generation, NEGATIVE_MESSAGE))
    errs.extend(validate_labels_annotations_owners(meta))
    finalizers = [f if isinstance(f, str) else "" for f in _list(meta, "finalizers")]
    for f in finalizers:
        for msg in is_qualified_name(f):
            errs.append(fe.invalid("CSR-META-M4", "metadata.finalizers", f, msg))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(
            fe.invalid(
                "CSR-META-M4",
                "metadata.finalizers",
                finalizers,
                "finalizer orphan and foregroundDeletion cannot be both set",
            )
        )
    return errs


def is_path_segment_name(name: str) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return is_path_segment_prefix(name)


def is_path_segment_prefix(name: str) -> list[str]:
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_meta_path_segments(obj: Mapping[str, Any]) -> list[fe.FieldError]:
    """The generic ObjectMeta pass ``ValidateCreate`` runs after the strategy passed (M3).

    Its common checks (labels, annotations…) repeat ones the strategy already passed, so
    only the generateName/name path-segment rules can add errors here.
    """
    meta = _map(obj, "metadata")
    errs: list[fe.FieldError] = []
    generate_name = _str(meta, "generateName")
    if generate_name:
        for msg in is_path_segment_prefix(generate_name):
            errs.append(fe.invalid("CSR-META-M3", "metadata.generateName", generate_name, msg))
    name = _str(meta, "name")
    if name == "":
        errs.append(fe.required("CSR-META-M2", "metadata.name", NAME_REQUIRED_MESSAGE))
    else:
        for msg in is_path_segment_name(name):
            errs.append(fe.invalid("CSR-META-M3", "metadata.name", name, msg))
    errs.extend(_validate_meta_common(meta))
    return errs


# ---------------------------------------------------------------------------
# the CSR rules
# ---------------------------------------------------------------------------


def validate_usages(usages: Sequence[str], opts: ValidationOptions) -> list[fe.FieldError]:
    errs: list[fe.FieldError] = []
    if len(usages) == 0:
        errs.append(fe.required("CSR-VAL-U1", "spec.usages"))
    if not opts.allow_unknown_usages:
        for i, u in enumerate(usages):
            if u not in _VALID_USAGE_SET:
                errs.append(
                    fe.not_supported(
                        "CSR-VAL-U2", f"spec.usages[{i}]", fe.named_string(u), VALID_USAGES
                    )
                )
    if not opts.allow_duplicate_usages:
        seen: set[str] = set()
        for i, u in enumerate(usages):
            if u in seen:
                errs.append(fe.duplicate("CSR-VAL-U3", f"spec.usages[{i}]", fe.named_string(u)))
            seen.add(u)
    return errs


def validate_expiration_seconds(value: object) -> list[fe.FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < MIN_EXPIRATION_SECONDS:
        return [fe.invalid("CSR-VAL-X1", "spec.expirationSeconds", value, EXPIRATION_MESSAGE)]
    return []


def validate_conditions(
    conditions: Sequence[Mapping[str, Any]], opts: ValidationOptions
) -> list[fe.FieldError]:
    """``validateConditions`` (C1–C5), handwritten form.

    The C5 errors are marked "covered by declarative" upstream; :func:`apply_declarative`
    swaps them for the enforced declarative error.
    """
    errs: list[fe.FieldError] = []
    seen: set[str] = set()
    has_approved = False
    has_denied = False
    path = "status.conditions"
    for i, c in enumerate(conditions):
        ctype = _str(c, "type")
        cstatus = _str(c, "status")
        if not opts.allow_empty_condition_type and ctype == "":
            errs.append(fe.required("CSR-VAL-C1", f"{path}[{i}].type"))
        allowed = TRUE_ONLY_VALUES if ctype in TRUE_ONLY_TYPES else ALL_STATUS_VALUES
        if cstatus == "":
            errs.append(fe.required("CSR-VAL-C2", f"{path}[{i}].status"))
        elif cstatus not in allowed:
            errs.append(
                fe.not_supported(
                    "CSR-VAL-C3", f"{path}[{i}].status", fe.named_string(cstatus), allowed
                )
            )
        if not opts.allow_both_approved_and_denied:
            if ctype == APPROVED:
                has_approved = True
                if has_denied:
                    errs.append(_c5(ctype))
            elif ctype == DENIED:
                has_denied = True
                if has_approved:
                    errs.append(_c5(ctype))
        if not opts.allow_duplicate_condition_types:
            if ctype in seen:
                errs.append(fe.duplicate("CSR-VAL-C4", f"{path}[{i}].type", fe.named_string(ctype)))
            seen.add(ctype)
    return errs


def _c5(ctype: str) -> fe.FieldError:
    return fe.invalid(
        "CSR-VAL-C5", "status.conditions", fe.named_string(ctype), MUTUALLY_EXCLUSIVE_MESSAGE
    )


def certificate_error(pem_data: bytes) -> tuple[str, bool] | None:
    """``validateCertificate``: ``None`` if acceptable, else (Go error text, exact?)."""
    if len(pem_data) == 0:
        return None
    blocks = 0
    data = pem_data
    while True:
        block, rest = pem_decode(data)
        if block is None:
            break
        if block.type != "CERTIFICATE":
            return f"only CERTIFICATE PEM blocks are allowed, found {fe.go_quote(block.type)}", True
        if block.headers:
            return "no PEM block headers are permitted", True
        blocks += 1
        parsed = _parse_certificates(block.bytes)
        if isinstance(parsed, tuple):
            return parsed
        if parsed == 0:
            return "found CERTIFICATE PEM block containing 0 certificates", True
        data = rest
    if blocks == 0:
        return "must contain at least one CERTIFICATE PEM block", True
    return None


def _der_length(der: bytes) -> int | None:
    """Length of the first DER TLV in ``der`` (short or long form), or None if truncated."""
    if len(der) < 2:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(der) < 2 + n:
        return None
    length = int.from_bytes(der[2 : 2 + n], "big")
    return 2 + n + length


def _parse_certificates(der: bytes) -> int | tuple[str, bool]:
    """``x509.ParseCertificates``: the count, or an (approximate) Go error text."""
    from cryptography import x509

    count = 0
    while der:
        n = _der_length(der)
        if n is None or n > len(der):
            return "x509: malformed certificate", False
        try:
            x509.load_der_x509_certificate(der[:n])
        except ValueError:
            return "x509: malformed certificate", False
        der = der[n:]
        count += 1
    return count


def validate_certificate(certificate: bytes) -> list[fe.FieldError]:
    err = certificate_error(certificate)
    if err is None:
        return []
    text, exact = err
    return [
        fe.invalid(
            "CSR-VAL-K1", "status.certificate", CERTIFICATE_BAD_VALUE, text, detail_exact=exact
        )
    ]


def validate_csr(obj: Mapping[str, Any], opts: ValidationOptions) -> list[fe.FieldError]:
    """``validateCertificateSigningRequest``: meta, request, usages, signer, expiry,
    conditions, certificate — in that order."""
    spec = spec_of(obj)
    errs = validate_object_meta(obj)
    errs.extend(validate_request(bytes_field(spec, "request")))
    errs.extend(validate_usages(usages_of(obj), opts))
    errs.extend(
        validate_csr_signer_name(
            _str(spec, "signerName"), allow_legacy=opts.allow_legacy_signer_name
        )
    )
    errs.extend(validate_expiration_seconds(spec.get("expirationSeconds")))
    errs.extend(validate_conditions(conditions_of(obj), opts))
    if not opts.allow_arbitrary_certificate:
        errs.extend(validate_certificate(certificate_of(obj)))
    return errs


def validation_options(
    new: Mapping[str, Any] | None, old: Mapping[str, Any] | None
) -> ValidationOptions:
    """``getValidationOptions``: tolerances switch on only for problems the old object has."""
    if old is None:
        return ValidationOptions()
    old_conds = conditions_of(old)
    old_types = [_str(c, "type") for c in old_conds]
    old_usages = usages_of(old)
    new_cert = certificate_of(new)
    old_cert = certificate_of(old)
    return ValidationOptions(
        allow_both_approved_and_denied=APPROVED in old_types and DENIED in old_types,
        allow_legacy_signer_name=_str(spec_of(old), "signerName") == "kubernetes.io/legacy-unknown",
        allow_duplicate_condition_types=len(set(old_types)) != len(old_types),
        allow_empty_condition_type="" in old_types,
        allow_arbitrary_certificate=(
            (new is not None and new_cert == old_cert) or certificate_error(old_cert) is not None
        ),
        allow_unknown_usages=any(u not in _VALID_USAGE_SET for u in old_usages),
        allow_duplicate_usages=len(set(old_usages)) != len(old_usages),
    )


def validate_csr_create(obj: Mapping[str, Any]) -> list[fe.FieldError]:
    """``ValidateCertificateSigningRequestCreate`` (what the strategy's Validate returns)."""
    return validate_csr(obj, validation_options(obj, None))


def declarative_errors(
    new: Mapping[str, Any], old: Mapping[str, Any] | None
) -> list[fe.FieldError]:
    """Enforced declarative errors for a CSR (only the Approved/Denied union today)."""
    new_types = {_str(c, "type") for c in conditions_of(new)}
    new_set = [APPROVED in new_types, DENIED in new_types]
    if old is not None:
        old_types = {_str(c, "type") for c in conditions_of(old)}
        old_set = [APPROVED in old_types, DENIED in old_types]
        has_old_value = len(conditions_of(old)) > 0
        if has_old_value and old_set == new_set:
            return []
    if all(new_set):
        value = "{" + ", ".join(_UNION_MEMBERS) + "}"
        return [
            fe.invalid(
                "CSR-VAL-C5",
                "status.conditions",
                value,
                "must specify at most one of: " + ", ".join(f"`{m}`" for m in _UNION_MEMBERS),
            )
        ]
    return []


def apply_declarative(
    errs: Sequence[fe.FieldError],
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    version: KubeVersion,
) -> list[fe.FieldError]:
    """``ValidateDeclarativelyWithMigrationChecks`` for CSRs under the default gates of
    ``version``.

    Before 1.37 declarative validation is only compared with the handwritten errors, which
    come back unchanged (:data:`~conformance.oracle.changes.DECLARATIVE_APPROVAL_UNION`).
    From 1.37 there are three visible effects: the handwritten errors come back
    de-duplicated by their ``Error()`` text (``FilterCoveredHandwrittenErrors`` goes through
    ``ToAggregate``), so ``details.causes`` never repeats an identical field+message;
    handwritten C5 errors are dropped when the (beta, enforced) union error fires; and the
    declarative errors are appended at the end.
    """
    if not DEDUPLICATED_CAUSES.applies(version):
        return list(errs)
    dv = declarative_errors(new, old) if DECLARATIVE_APPROVAL_UNION.applies(version) else []
    out: list[fe.FieldError] = []
    seen: set[str] = set()
    for e in errs:
        if dv and e.rule == "CSR-VAL-C5" and e.field == "status.conditions":
            continue
        text = e.error_string()
        if text in seen:
            continue
        seen.add(text)
        out.append(e)
    return out + dv


def validate_create(
    obj: Mapping[str, Any], version: KubeVersion | None = None
) -> list[fe.FieldError]:
    """Everything ``rest.ValidateCreate`` reports for a prepared CSR, in order.

    Strategy validation first; the path-segment pass (M3) only if that found nothing;
    then declarative validation.
    """
    errs = validate_csr_create(obj)
    if not errs:
        errs = validate_meta_path_segments(obj)
    return apply_declarative(errs, obj, None, version or release())


def with_rule(err: fe.FieldError, rule: str) -> fe.FieldError:
    """A copy of ``err`` attributed to another rule id."""
    return replace(err, rule=rule)
