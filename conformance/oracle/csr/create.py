"""The create pipeline (POST /certificatesigningrequests), as one pure decision.

Order, as ``createHandler`` → ``Store.Create`` → ``rest.BeforeCreate`` → admission →
storage run it in kube-apiserver v1.37 (§3.1):

1. content type (415), query options → ``ValidateCreateOptions`` (422 ``CreateOptions``);
2. body decode (400; strict field errors → 400 under Strict, ``Warning`` headers under
   Warn, nothing under Ignore);
3. apiVersion/kind must be ``certificates.k8s.io/v1`` (400);
4. system metadata wiped, namespace cleared, duplicate owner references dropped (warning);
5. ``Store.create``: ``creationTimestamp``/``uid`` filled, generateName expanded;
6. ``PrepareForCreate`` (identity from the caller, status wiped), then ``ValidateCreate``
   (CSR rules; path-segment rules only if those passed; declarative rules) → 422;
7. validating admission: CertificateSubjectRestriction → 403;
8. storage: real create refuses a numeric non-zero ``resourceVersion`` (500) then an
   existing name (409); dry-run only checks existence and returns the object as it
   stands, client ``resourceVersion`` included.

Upstream: apiserver ``endpoints/handlers/create.go``, ``registry/generic/registry/store.go``
(``create``, ``createWithGenerateNameRetry``, 8 attempts), ``registry/generic/registry/
dryrun.go``, ``storage/etcd3/store.go`` (``ErrResourceVersionSetOnCreate``),
``registry/rest/create.go``, ``pkg/registry/certificates/certificates/strategy.go``,
``plugin/pkg/admission/certificates/subjectrestriction``.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.decode import DecodeResult, decode_body
from conformance.oracle.csr.request import check_request
from conformance.oracle.csr.signer import KUBE_APISERVER_CLIENT
from conformance.oracle.csr.validation import validate_create
from conformance.oracle.golang import unicode_tables as gounicode
from conformance.oracle.versions import KubeVersion, decides, release
from conformance.wire.schema import OBJECT_META_OMITTED_WHEN_EMPTY

MAX_GENERATED_PREFIX: Final = 58
GENERATED_SUFFIX_LENGTH: Final = 5
GENERATED_SUFFIX_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATE_NAME_ATTEMPTS: Final = 8
FIELD_MANAGER_MAX_LENGTH: Final = 128
SYSTEM_MASTERS: Final = "system:masters"
SUBJECT_RESTRICTION_MESSAGE: Final = (
    f"use of {KUBE_APISERVER_CLIENT} signer with system:masters group is not allowed"
)
RV_SET_ON_CREATE: Final = "resourceVersion should not be set on objects to be created"
DUPLICATE_OWNER_REFS_WARNING: Final = (
    ".metadata.ownerReferences contains duplicate entries; API server dedups owner "
    "references in 1.20+, and may reject such requests as early as 1.24; please fix your "
    "requests; duplicate UID(s) observed: {}"
)
_WIPED: Final = (
    "creationTimestamp",
    "uid",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)


class Caller(Protocol):
    """What every description of an authenticated caller carries."""

    @property
    def username(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def groups(self) -> Sequence[str]: ...
    @property
    def extra(self) -> Mapping[str, Sequence[str]]: ...


@dataclass
class UserInfo:
    """The authenticated caller, as the authenticator reports it."""

    username: str
    uid: str = ""
    groups: list[str] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, who: Caller) -> UserInfo:
        """A copy of any description of the caller (the suite's view of an identity, the
        fake's authenticated principal)."""
        return cls(
            username=who.username,
            uid=who.uid,
            groups=list(who.groups),
            extra={k: list(v) for k, v in who.extra.items()},
        )


@dataclass
class CreateDecision:
    """What kube-apiserver answers to one create request.

    ``body`` is the Status on failure, or on success the object as returned *without*
    ``metadata.resourceVersion`` and ``metadata.managedFields`` when
    ``storage_sets_resource_version`` is True (a real create: storage adds them). A
    dry-run body is final for ``resourceVersion``: it carries the client's value if one
    was sent, else none. ``warnings`` are ``Warning`` header values in order. ``exact``
    is False when a message could not be reproduced exactly; ``message_prefix`` then
    holds the exact start of ``body["message"]``.
    """

    code: int
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    persist: bool = False
    rules: list[str] = field(default_factory=list)
    exact: bool = True
    message_prefix: str = ""
    storage_sets_resource_version: bool = False
    errors: list[fe.FieldError] = field(default_factory=list)

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            return str(meta["name"])
        details = self.body.get("details")
        if isinstance(details, dict):
            return str(details.get("name", ""))
        return ""


# ---------------------------------------------------------------------------
# pieces
# ---------------------------------------------------------------------------


def query_values(query: Mapping[str, Sequence[str]], key: str) -> list[str]:
    """All values of a query parameter; a bare string counts as one value."""
    values = query.get(key)
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return list(values)


def query_first(query: Mapping[str, Sequence[str]], key: str) -> str:
    values = query_values(query, key)
    return values[0] if values else ""


def validate_create_options(query: Mapping[str, Sequence[str]]) -> list[fe.FieldError]:
    """``ValidateCreateOptions``: fieldManager, then dryRun, then fieldValidation.

    A string option takes the first value given (Go's slice-to-string conversion).
    """
    errs: list[fe.FieldError] = []
    manager = query_first(query, "fieldManager")
    if len(manager.encode("utf-8", errors="surrogatepass")) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(fe.too_long("CSR-CREATE-OPTS", "fieldManager", FIELD_MANAGER_MAX_LENGTH))
    offset = 0
    for ch in manager:
        if not gounicode.is_print(ch):
            errs.append(
                fe.invalid(
                    "CSR-CREATE-OPTS",
                    "fieldManager",
                    manager,
                    f"invalid character U+{ord(ch):04X} (at position {offset})",
                )
            )
        offset += len(ch.encode("utf-8", errors="surrogatepass"))
    dry_run = query_values(query, "dryRun")
    if any(v != "All" for v in dry_run):
        errs.append(fe.not_supported("CSR-CREATE-OPTS", "dryRun", dry_run, ["All"]))
    validation = query_first(query, "fieldValidation")
    if validation not in ("", "Ignore", "Strict", "Warn"):
        errs.append(
            fe.not_supported(
                "CSR-CREATE-OPTS",
                "fieldValidation",
                validation,
                ["", "Ignore", "Strict", "Warn"],
            )
        )
    return errs


def is_dry_run(query: Mapping[str, Sequence[str]]) -> bool:
    return len(query_values(query, "dryRun")) > 0


def field_validation_directive(query: Mapping[str, Sequence[str]]) -> str:
    """The effective directive: an empty parameter means ``Warn``."""
    return query_first(query, "fieldValidation") or "Warn"


def warning_header(text: str) -> str | None:
    """``NewWarningHeader(299, "-", text)``; None when Go would refuse (control chars)."""
    if any(unicodedata.category(c) == "Cc" for c in text):
        return None
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{quoted}"'


def generate_name(base: str, suffix: str) -> str:
    """``SimpleNameGenerator``: the prefix cut to 58 *bytes*, then the random suffix.

    A cut through a multi-byte character leaves invalid UTF-8, which Go's JSON encoder
    shows as one U+FFFD per stray byte.
    """
    raw = base.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_GENERATED_PREFIX:
        raw = raw[:MAX_GENERATED_PREFIX]
    return _go_bytes_to_str(raw) + suffix


def _go_bytes_to_str(raw: bytes) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        for width in (1, 2, 3, 4):
            chunk = raw[i : i + width]
            try:
                out.append(chunk.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            i += width
            break
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def prepare_for_create(obj: Mapping[str, Any], user: UserInfo | None) -> dict[str, Any]:
    """``csrStrategy.PrepareForCreate`` on a copy: identity from the caller, status wiped."""
    out = copy.deepcopy(dict(obj))
    spec = dict(out.get("spec") or {})
    for key in ("username", "uid", "groups", "extra"):
        spec.pop(key, None)
    if user is not None:
        if user.username:
            spec["username"] = user.username
        if user.uid:
            spec["uid"] = user.uid
        if user.groups:
            spec["groups"] = list(user.groups)
        if user.extra:
            spec["extra"] = {k: list(v) for k, v in user.extra.items()}
    out["spec"] = spec
    out["status"] = {}
    return out


def subject_restriction(obj: Mapping[str, Any]) -> str | None:
    """CertificateSubjectRestriction: the 403 message, or None to admit."""
    spec = obj.get("spec") or {}
    if spec.get("signerName") != KUBE_APISERVER_CLIENT:
        return None
    from conformance.oracle.csr.validation import bytes_field

    result = check_request(bytes_field(spec, "request"))
    if result.organizations is None:
        return f"failed to parse CSR: {result.error}"
    if SYSTEM_MASTERS in result.organizations:
        return SUBJECT_RESTRICTION_MESSAGE
    return None


def resource_version_blocks_create(rv: str) -> bool:
    """etcd3 ``Create``: ``strconv.ParseUint(rv, 10, 64)`` succeeding with a non-zero value."""
    if not rv or not rv.isascii() or not rv.isdigit():
        return False
    n = int(rv)
    return 0 < n < (1 << 64)


def _dedup_owner_references(meta: dict[str, Any]) -> str | None:
    refs = meta.get("ownerReferences")
    if not isinstance(refs, list) or not refs:
        return None
    result: list[Any] = []
    duplicates: list[str] = []
    for ref in refs:
        if ref in result:
            uid = ref.get("uid", "") if isinstance(ref, dict) else ""
            duplicates.append(str(uid))
        else:
            result.append(ref)
    if not duplicates:
        return None
    meta["ownerReferences"] = result
    return DUPLICATE_OWNER_REFS_WARNING.format(", ".join(duplicates))


def response_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as Go's JSON encoder writes it: kind/apiVersion first, empties omitted."""
    meta = {
        k: v
        for k, v in dict(obj.get("metadata") or {}).items()
        if not (k in OBJECT_META_OMITTED_WHEN_EMPTY and v in ("", 0, None, [], {}))
        or (k == "deletionGracePeriodSeconds" and v is not None)
    }
    spec = {k: v for k, v in dict(obj.get("spec") or {}).items() if v not in (None, [], {})}
    for key in ("username", "uid"):
        if spec.get(key) == "":
            spec.pop(key)
    spec.setdefault("signerName", "")
    status = {k: v for k, v in dict(obj.get("status") or {}).items() if v not in (None, [], "")}
    return {
        "kind": st.KIND,
        "apiVersion": st.API_VERSION,
        "metadata": meta,
        "spec": spec,
        "status": status,
    }


def _fail(
    code_body: dict[str, Any],
    rules: list[str],
    warnings: list[str],
    *,
    exact: bool = True,
    prefix: str = "",
    errors: Sequence[fe.FieldError] = (),
) -> CreateDecision:
    return CreateDecision(
        code=int(code_body.get("code", 500)),
        body=code_body,
        warnings=list(warnings),
        persist=False,
        rules=[*rules, "CSR-CREATE-ORDER", "CSR-ERR-STATUS"],
        exact=exact,
        message_prefix=prefix if not exact else str(code_body.get("message", "")),
        errors=list(errors),
    )


def _media_type(content_type: str | None) -> str:
    if content_type is None:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------


@decides
def decide_create(
    body: bytes,
    query: Mapping[str, Sequence[str]],
    user: UserInfo | None,
    *,
    existing_names: Collection[str],
    now: str,
    uid: str,
    generated_suffix: str | Sequence[str],
    terminating_names: Collection[str] = (),
    content_type: str | None = "application/json",
    version: KubeVersion | None = None,
) -> CreateDecision:
    """Decide the response to ``POST /apis/certificates.k8s.io/v1/certificatesigningrequests``.

    ``now`` is the RFC3339 second-precision timestamp to stamp; ``uid`` the new object's
    uid. ``generated_suffix`` is the 5-character suffix to use for generateName, or a
    sequence of suffixes to try in order (kube-apiserver retries a generated-name
    collision up to 8 times). ``terminating_names`` are existing names whose objects carry
    a deletionTimestamp (their 409 message differs). ``content_type`` is the request's
    Content-Type header; only JSON bodies are modelled. ``version`` is the release whose
    behaviour to decide by (:mod:`conformance.oracle.changes`; default: the one in force).
    """
    release_ = version or release()
    warnings: list[str] = []

    media = _media_type(content_type)
    if media not in ("", "application/json"):
        if media in st.CREATE_MEDIA_TYPES:
            raise NotImplementedError(f"bodies of type {media} are not modelled")
        return _fail(st.unsupported_media_type(media), ["CSR-CREATE-DECODE"], warnings)

    # 1. options
    opt_errs = validate_create_options(query)
    if opt_errs:
        return _fail(
            st.options_invalid("CreateOptions", opt_errs),
            ["CSR-CREATE-OPTS"],
            warnings,
            errors=opt_errs,
        )
    dry_run = is_dry_run(query)
    directive = field_validation_directive(query)

    # 2. decode
    decoded: DecodeResult = decode_body(body, strict=directive in ("Warn", "Strict"))
    if not decoded.ok:
        assert decoded.error is not None
        return _fail(
            st.bad_request(decoded.error),
            [decoded.rule],
            warnings,
            exact=decoded.exact,
            prefix=decoded.message_prefix,
        )
    if decoded.strict_errors:
        if directive == "Strict":
            return _fail(
                st.bad_request(decoded.strict_message()), ["CSR-CREATE-FIELDVAL"], warnings
            )
        for text in decoded.strict_errors:
            header = warning_header(text)
            if header is not None and header not in warnings:
                warnings.append(header)
    assert decoded.obj is not None and decoded.gvk is not None

    # 3. apiVersion
    if (decoded.gvk.group, decoded.gvk.version) != (st.GROUP, st.VERSION):
        return _fail(
            st.api_version_mismatch(decoded.gvk.api_version),
            ["CSR-CREATE-APIVERSION"],
            warnings,
        )

    rules: list[str] = [
        "CSR-CREATE-201",
        "CSR-CREATE-PREP-ID",
        "CSR-CREATE-PREP-STATUS",
        "CSR-CREATE-ROUNDTRIP",
        "CSR-META-SYS",
    ]
    if decoded.strict_errors:
        rules.append("CSR-CREATE-FIELDVAL")

    # 4. wipe system fields, clear namespace, dedup owner references
    obj = copy.deepcopy(decoded.obj)
    meta: dict[str, Any] = dict(obj.get("metadata") or {})
    for key in _WIPED:
        meta.pop(key, None)
    if meta.pop("namespace", None):
        rules.append("CSR-META-NS")
    dedup_warning = _dedup_owner_references(meta)
    if dedup_warning is not None:
        header = warning_header(dedup_warning)
        if header is not None:
            warnings.append(header)
    client_rv = str(meta.get("resourceVersion") or "")

    # 5. store.create: system fields and generated name (retried on collisions)
    suffixes = [generated_suffix] if isinstance(generated_suffix, str) else list(generated_suffix)
    suffixes = suffixes[:MAX_GENERATE_NAME_ATTEMPTS] or [""]
    needs_generation = not meta.get("name") and bool(meta.get("generateName"))
    last: CreateDecision | None = None
    for suffix in suffixes if needs_generation else [""]:
        attempt_meta = dict(meta)
        attempt_meta["creationTimestamp"] = now
        attempt_meta["uid"] = uid
        if needs_generation:
            attempt_meta["name"] = generate_name(str(meta["generateName"]), suffix)
        attempt = dict(obj)
        attempt["metadata"] = attempt_meta
        last = _create_attempt(
            attempt,
            user,
            rules + (["CSR-META-GEN"] if needs_generation else []),
            warnings,
            existing_names=existing_names,
            terminating_names=terminating_names,
            dry_run=dry_run,
            client_rv=client_rv,
            version=release_,
        )
        if last.code != 409:
            return last
    assert last is not None
    if needs_generation and last.code == 409:
        conflict = st.generate_name_conflict(last.name)
        return _fail(conflict, ["CSR-CREATE-EXISTS", "CSR-META-GEN"], warnings)
    return last


def _create_attempt(
    obj: dict[str, Any],
    user: UserInfo | None,
    rules: list[str],
    warnings: list[str],
    *,
    existing_names: Collection[str],
    terminating_names: Collection[str],
    dry_run: bool,
    client_rv: str,
    version: KubeVersion,
) -> CreateDecision:
    name = str(obj["metadata"].get("name") or "")

    # 6. PrepareForCreate + ValidateCreate
    prepared = prepare_for_create(obj, user)
    errs = validate_create(prepared, version)
    if errs:
        status_body = st.invalid_csr(name, errs)
        exact = fe.all_exact(errs)
        prefix = f"{st.QUALIFIED_KIND} {fe.go_quote(name)} is invalid: "
        return _fail(
            status_body,
            sorted({e.rule for e in errs}),
            warnings,
            exact=exact,
            prefix=prefix,
            errors=errs,
        )

    # 7. validating admission
    denial = subject_restriction(prepared)
    if denial is not None:
        exact = denial == SUBJECT_RESTRICTION_MESSAGE
        body = st.forbidden(name, denial)
        return _fail(
            body,
            ["CSR-ADM-SUBJ"],
            warnings,
            exact=exact,
            prefix=f"{st.QUALIFIED_RESOURCE} {fe.go_quote(name)} is forbidden: ",
        )

    # 8. storage
    if not dry_run and resource_version_blocks_create(client_rv):
        return _fail(st.internal_error(RV_SET_ON_CREATE), ["CSR-META-RV"], warnings)
    if name in existing_names:
        return _fail(
            st.already_exists(name, being_deleted=name in terminating_names),
            ["CSR-CREATE-EXISTS"],
            warnings,
        )

    stored = dict(prepared)
    meta = dict(stored["metadata"])
    meta.pop("managedFields", None)
    meta.pop("resourceVersion", None)
    if dry_run and client_rv:
        meta["resourceVersion"] = client_rv
    stored["metadata"] = meta
    out_rules = list(rules)
    if client_rv and not resource_version_blocks_create(client_rv):
        out_rules.append("CSR-META-RV")
    if dry_run:
        out_rules.append("CSR-CREATE-DRYRUN")
    return CreateDecision(
        code=201,
        body=response_object(stored),
        warnings=list(warnings),
        persist=not dry_run,
        rules=out_rules,
        storage_sets_resource_version=not dry_run,
    )
