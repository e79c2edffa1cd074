"""The update pipelines (PUT and PATCH on the main resource, ``/approval`` and
``/status``), as one pure decision each.

Order, as kube-apiserver v1.37 runs them (§5, §6, §10, §12):

1. RBAC (authorization filter): ``update``/``patch`` on the resource or subresource (403);
2. PUT: body media type (415), ``ValidateUpdateOptions`` (422 ``UpdateOptions``), decode
   (400, strict field warnings/400), apiVersion (400), namespace cleared, name vs URL
   (400), duplicate owner references dropped (warning);
   PATCH: see :mod:`conformance.oracle.apimachinery.patch` for steps up to the JSON check;
3. the object is read: a missing name is 404 (apply to the main resource would create);
4. PUT only: a body ``uid`` must match the stored one (409, storage precondition);
5. PATCH only: the patch is applied and decoded (400/413/422/500), then the name check
   (400) and duplicate owner references (warning);
6. ``resourceVersion``: empty or ``0`` means unconditional; an unparseable one is a 500
   (``strconv.ParseUint`` text); any other mismatch is 409;
7. ``BeforeUpdate``: the endpoint strategy (:func:`prepare_update`), then validation (422);
8. validating admission: CertificateApproval / CertificateSigning (403) — so a 422 wins;
9. storage: removing the last finalizer of an object being deleted deletes it; a
   prepared object that stores the same as the old one is a no-op (same
   resourceVersion, no event); dry-run persists nothing.

Server-side apply (``application/apply-patch+yaml``) runs through the same pipeline; the
merge itself and all managedFields bookkeeping come from
:mod:`conformance.oracle.apimachinery.apply`
(another module's engine, used here, not re-implemented). An apply to a missing main
resource takes the create path and answers 201.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import yaml

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.decode import decode_body
from conformance.oracle.apimachinery.patch import (
    APPLY_PATCH,
    RULE_FOR_TYPE,
    apply_patch,
    check_patch_body,
    check_patch_content_type,
    validate_patch_options,
)
from conformance.oracle.changes import APPLY_CREATE_WIPES_SYSTEM_FIELDS, EARLY_PATCH_VALIDATION
from conformance.oracle.csr.create import (
    UserInfo,
    field_validation_directive,
    is_dry_run,
    prepare_for_create,
    query_first,
    response_object,
    subject_restriction,
    validate_create_options,
    warning_header,
)
from conformance.oracle.csr.update_admission import (
    Authorizer,
    admission_update,
    rbac_forbidden,
    signing_relevant_change,
)
from conformance.oracle.csr.update_strategy import (
    Endpoint,
    prepare_update,
    same_storage,
    validate_update,
)
from conformance.oracle.csr.validation import validate_create, with_rule
from conformance.oracle.golang import unicode_tables as gounicode
from conformance.oracle.versions import KubeVersion, decides, release

Method = Literal["PUT", "PATCH"]

ETCD_PREFIX: Final = "/registry"
PUT_MEDIA_TYPES: Final = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
)
DUPLICATE_OWNER_REFS: Final = (
    ".metadata.ownerReferences contains duplicate entries; API server dedups owner "
    "references in 1.20+, and may reject such requests as early as 1.24; please fix your "
    "requests; duplicate UID(s) observed: {}"
)
DUPLICATE_OWNER_REFS_AFTER_ADMISSION: Final = (
    ".metadata.ownerReferences contains duplicate entries after mutating admission happens; "
    "API server dedups owner references in 1.20+, and may reject such requests as early as "
    "1.24; please fix your requests; duplicate UID(s) observed: {}"
)


@dataclass
class UpdateDecision:
    """What kube-apiserver answers to one update or patch.

    ``body`` is the Status on failure. On success it is the response object: for a
    real write *without* ``metadata.resourceVersion`` and ``metadata.managedFields``
    (``storage_sets_resource_version`` is True: storage and the field manager add them);
    for a no-op it is the stored object unchanged; for a dry run it carries the stored
    resourceVersion and no managedFields.

    ``object`` is what to store when ``persist`` is True (the prepared object, keeping
    ``status.certificate: ""`` when the request sent an empty certificate, which the
    server stores differently from none). ``deletes`` means the write removes the object
    (the last finalizer of an object being deleted went away). ``noop`` means the
    prepared object stores the same as the old one: nothing is written unless the field
    manager changes managedFields beyond timestamps (the fake's call).
    ``request_managed_fields`` is the managedFields list the request object carried (None
    when absent), which the field manager uses instead of the stored list.
    ``request_object`` is the decoded (for PATCH: patched) object *before* the endpoint
    strategy: the field manager diffs it against the stored object, so a field the
    strategy later restores (a changed ``deletionTimestamp``, say) still changes
    managedFields, and then a ``noop`` object part is written after all (seen on
    kube-apiserver v1.37.2).
    """

    code: int
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    persist: bool = False
    rules: list[str] = field(default_factory=list)
    exact: bool = True
    message_prefix: str = ""
    noop: bool = False
    object: dict[str, Any] | None = None
    deletes: bool = False
    storage_sets_resource_version: bool = False
    errors: list[fe.FieldError] = field(default_factory=list)
    request_managed_fields: list[Any] | None = None
    request_object: dict[str, Any] | None = None


def _fail(
    status: st.Status,
    rules: Sequence[str],
    warnings: Sequence[str] = (),
    *,
    exact: bool = True,
    prefix: str = "",
    errors: Sequence[fe.FieldError] = (),
) -> UpdateDecision:
    return UpdateDecision(
        code=int(status.get("code", 500)),
        body=status,
        warnings=list(warnings),
        rules=[*dict.fromkeys(rules), "CSR-ERR-STATUS"],
        exact=exact,
        message_prefix=str(status.get("message", "")) if exact else prefix,
        errors=list(errors),
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    v = obj.get("metadata")
    return dict(v) if isinstance(v, Mapping) else {}


def _str(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    return v if isinstance(v, str) else ""


def parse_uint64(text: str) -> int | str:
    """``strconv.ParseUint(text, 10, 64)``: the value, or Go's error text."""
    if not text or not text.isascii() or not text.isdigit():
        return f"strconv.ParseUint: parsing {fe.go_quote(text)}: invalid syntax"
    n = int(text)
    if n >= 1 << 64:
        return f"strconv.ParseUint: parsing {fe.go_quote(text)}: value out of range"
    return n


def uid_precondition_conflict(
    name: str, expected: str, actual: str, *, dry_run: bool = False
) -> st.Status:
    """409 from the storage precondition a PUT body's uid sets.

    The etcd store reports the key with its ``/registry`` prefix; the dry-run wrapper
    checks preconditions itself and reports the key without it.
    """
    prefix = "" if dry_run else ETCD_PREFIX
    message = (
        f"StorageError: invalid object, Code: 4, Key: {prefix}/{st.RESOURCE}/{name}, "
        f"ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: "
        f"{expected}, UID in object meta: {actual}"
    )
    return st.conflict(name, message)


def _dedup_owner_references(obj: dict[str, Any], template: str) -> str | None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None
    refs = meta.get("ownerReferences")
    if not isinstance(refs, list) or not refs:
        return None
    result: list[Any] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for ref in refs:
        uid = str(ref.get("uid", "")) if isinstance(ref, dict) else ""
        if uid not in seen or ref not in result:
            seen.add(uid)
            result.append(ref)
        else:
            duplicates.append(uid)
    if not duplicates:
        return None
    meta["ownerReferences"] = result
    return warning_header(template.format(", ".join(duplicates)))


def _ssa() -> Any:
    """``conformance.oracle.apimachinery.apply`` (the field manager and server-side apply
    engine)."""
    return importlib.import_module("conformance.oracle.apimachinery.apply")


def manager_or_user_agent(field_manager: str, user_agent: str) -> str:
    """``managerOrUserAgent``: the fieldManager parameter, else the User-Agent up to its
    first ``/`` with unprintable characters dropped, cut at 128 bytes."""
    if field_manager:
        return field_manager
    out = ""
    size = 0
    for ch in user_agent.split("/")[0]:
        if not gounicode.is_print(ch):
            continue
        width = len(ch.encode("utf-8", errors="surrogatepass"))
        if size + width > 128:
            break
        out += ch
        size += width
    return out


def _managed_of(obj: Mapping[str, Any]) -> list[Any]:
    value = _meta(obj).get("managedFields")
    return list(value) if isinstance(value, list) else []


def _set_managed(obj: dict[str, Any], managed: Sequence[Any]) -> None:
    meta = obj.setdefault("metadata", {})
    meta.pop("managedFields", None)
    if managed:
        meta["managedFields"] = copy.deepcopy(list(managed))


def _ignore_managed_fields_timestamps(prepared: dict[str, Any], stored: Mapping[str, Any]) -> None:
    """``IgnoreManagedFieldsTimestampsTransformer``: when only managedFields times changed
    and the rest is semantically equal (nil and empty alike), keep the old times."""
    new_mf = _managed_of(prepared)
    old_mf = _managed_of(stored)
    if len(new_mf) != len(old_mf) or not new_mf:
        return
    if all(a.get("time") == b.get("time") for a, b in zip(new_mf, old_mf, strict=True)):
        return

    def untimed(entries: list[Any]) -> list[Any]:
        return [{k: v for k, v in e.items() if k != "time"} for e in entries]

    if untimed(new_mf) != untimed(old_mf):
        return
    if not same_storage(prepared, stored, nil_equals_empty=True):
        return
    for entry, old_entry in zip(new_mf, old_mf, strict=True):
        if "time" in old_entry:
            entry["time"] = old_entry["time"]
        else:
            entry.pop("time", None)
    _set_managed(prepared, new_mf)


# ---------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------


@decides
def decide_update(
    endpoint: Endpoint,
    method: Method,
    name: str,
    body: bytes,
    content_type: str | None,
    query: Mapping[str, Sequence[str]],
    user: UserInfo | None,
    authorizer: Authorizer,
    *,
    stored: Mapping[str, Any] | None,
    now: str,
    user_agent: str | None = None,
    uid: str = "",
    version: KubeVersion | None = None,
    managed_now: str | None = None,
) -> UpdateDecision:
    """Decide the response to ``PUT``/``PATCH`` of ``…/certificatesigningrequests/{name}``
    (``endpoint`` "main") or its ``/approval`` or ``/status`` subresource.

    ``stored`` is the current object (v1 dict as stored, with ``resourceVersion`` and
    ``managedFields``) or None when the name does not exist; ``now`` the RFC 3339
    second-precision request time; ``authorizer(verb, resource, name)`` answers for the
    caller. ``content_type`` is the request header as sent.

    With ``user_agent`` given (the request's User-Agent header, ``""`` if none) the
    decision also computes managedFields (through :mod:`conformance.oracle.apimachinery.apply`): the
    success body and ``object`` then carry them, and ``noop`` is final. Without it
    managedFields are left to the caller. Server-side apply always computes them.
    ``uid`` is the uid a server-side apply that creates the object assigns.
    ``managed_now`` is when the field manager stamped managedFields (default ``now``): it
    runs in the handler, before the strategy stamps condition times, so a request that
    straddles a second boundary carries two different seconds. ``version``
    is the release whose behaviour to decide by (:mod:`conformance.oracle.changes`;
    default: the one in force).
    """
    release_ = version or release()
    verb = "update" if method == "PUT" else "patch"
    username = user.username if user is not None else "system:anonymous"
    if not authorizer(verb, _resource(endpoint), name):
        return _fail(rbac_forbidden(username, verb, endpoint, name), ["CSR-AUTHZ-RBAC"])

    warnings: list[str] = []
    rules: list[str] = []
    directive = field_validation_directive(query)
    request_managed: list[Any] | None = None

    if method == "PUT":
        media = _media_type(content_type)
        if media not in ("", "application/json"):
            if media in PUT_MEDIA_TYPES:
                raise NotImplementedError(f"bodies of type {media} are not modelled")
            return _fail(st.unsupported_media_type(media), ["CSR-UPD-DECODE"])
        opt_errs = [with_rule(e, "CSR-PATCH-OPTS") for e in validate_create_options(query)]
        if opt_errs:
            return _fail(
                st.options_invalid("UpdateOptions", opt_errs), ["CSR-PATCH-OPTS"], errors=opt_errs
            )
        decoded = decode_body(body, strict=directive in ("Warn", "Strict"))
        if not decoded.ok:
            assert decoded.error is not None
            return _fail(
                st.bad_request(decoded.error),
                ["CSR-UPD-DECODE", decoded.rule],
                exact=decoded.exact,
                prefix=decoded.message_prefix,
            )
        if decoded.strict_errors:
            if directive == "Strict":
                return _fail(st.bad_request(decoded.strict_message()), ["CSR-CREATE-FIELDVAL"])
            for text in decoded.strict_errors:
                header = warning_header(text)
                if header is not None and header not in warnings:
                    warnings.append(header)
            rules.append("CSR-CREATE-FIELDVAL")
        assert decoded.obj is not None and decoded.gvk is not None
        if (decoded.gvk.group, decoded.gvk.version) != (st.GROUP, st.VERSION):
            return _fail(
                st.api_version_mismatch(decoded.gvk.api_version),
                ["CSR-UPD-DECODE"],
                warnings,
            )
        new = copy.deepcopy(decoded.obj)
        meta = _meta(new)
        meta.pop("namespace", None)
        new["metadata"] = meta
        if _str(meta, "name") != name:
            return _fail(st.name_mismatch(_str(meta, "name"), name), ["CSR-UPD-NAME"], warnings)
        header = _dedup_owner_references(new, DUPLICATE_OWNER_REFS)
        if header is not None:
            warnings.append(header)
        if isinstance(meta.get("managedFields"), list):
            request_managed = list(meta["managedFields"])
        if stored is None:
            return _fail(st.not_found(name), ["CSR-UPD-404"], warnings)
        body_uid = _str(meta, "uid")
        stored_uid = _str(_meta(stored), "uid")
        if body_uid and body_uid != stored_uid:
            conflict = uid_precondition_conflict(
                name, body_uid, stored_uid, dry_run=is_dry_run(query)
            )
            return _fail(conflict, ["CSR-CONC-UID"], warnings)
    else:
        patch_type, media_error = check_patch_content_type(content_type)
        if media_error is not None or patch_type is None:
            assert media_error is not None
            return _fail(media_error, ["CSR-PATCH-415"])
        rules.append(RULE_FOR_TYPE[patch_type])
        opt_errs = validate_patch_options(query, patch_type)
        if opt_errs:
            return _fail(
                st.options_invalid("PatchOptions", opt_errs), ["CSR-PATCH-OPTS"], errors=opt_errs
            )
        body_error = (
            check_patch_body(body, patch_type) if EARLY_PATCH_VALIDATION.applies(release_) else None
        )
        if body_error is not None:
            return _fail(body_error, [*rules])
        if patch_type == APPLY_PATCH:
            return _decide_apply(
                endpoint,
                name,
                body,
                query,
                user,
                authorizer,
                stored,
                now,
                uid,
                rules,
                release_,
                managed_now=managed_now or now,
            )
        if stored is None:
            return _fail(st.not_found(name), ["CSR-UPD-404", *rules])
        patched = apply_patch(patch_type, body, stored, directive, name)
        warnings.extend(w for w in patched.warnings if w not in warnings)
        rules.extend(patched.rules)
        if patched.error is not None or patched.obj is None:
            assert patched.error is not None
            return _fail(
                patched.error,
                rules,
                warnings,
                exact=patched.exact,
                prefix=patched.message_prefix,
                errors=patched.errors,
            )
        new = patched.obj
        meta = _meta(new)
        meta.pop("namespace", None)
        new["metadata"] = meta
        if _str(meta, "name") != name:
            return _fail(
                st.name_mismatch(_str(meta, "name"), name), [*rules, "CSR-UPD-NAME"], warnings
            )
        header = _dedup_owner_references(new, DUPLICATE_OWNER_REFS_AFTER_ADMISSION)
        if header is not None and header not in warnings:
            warnings.append(header)
        if isinstance(meta.get("managedFields"), list):
            request_managed = list(meta["managedFields"])

    managed: list[Any] | None = None
    if user_agent is not None:
        manager = manager_or_user_agent(query_first(query, "fieldManager"), user_agent)
        managed = _ssa().update_managed_fields(
            endpoint, stored, new, manager, now=managed_now or now
        )
    decision = _update_in_store(
        endpoint,
        name,
        new,
        stored,
        query,
        user,
        authorizer,
        now,
        warnings,
        rules,
        request_managed,
        managed,
        release_,
    )
    if decision.code == 200:
        decision.request_object = copy.deepcopy(new)
    return decision


def _resource(endpoint: Endpoint) -> str:
    return st.RESOURCE if endpoint == "main" else f"{st.RESOURCE}/{endpoint}"


def _update_in_store(
    endpoint: Endpoint,
    name: str,
    new: dict[str, Any],
    stored: Mapping[str, Any],
    query: Mapping[str, Sequence[str]],
    user: UserInfo | None,
    authorizer: Authorizer,
    now: str,
    warnings: list[str],
    rules: list[str],
    request_managed: list[Any] | None,
    managed: list[Any] | None,
    version: KubeVersion,
) -> UpdateDecision:
    """``Store.Update`` from the resourceVersion check on.

    ``managed`` is the managedFields list the field manager computed (None: not modelled).
    """
    stored_meta = _meta(stored)
    new_rv = _str(_meta(new), "resourceVersion")
    if new_rv:
        parsed = parse_uint64(new_rv)
        if isinstance(parsed, str):
            return _fail(st.internal_error(parsed), [*rules, "CSR-CONC-RV"], warnings)
        if parsed != 0:
            existing = parse_uint64(_str(stored_meta, "resourceVersion"))
            if parsed != existing:
                return _fail(
                    st.conflict(name, st.OBJECT_MODIFIED), [*rules, "CSR-CONC-RV"], warnings
                )
        else:
            rules.append("CSR-CONC-UNCOND")
    else:
        rules.append("CSR-CONC-UNCOND")

    prepared = prepare_update(endpoint, new, stored, now)
    if managed is not None:
        _set_managed(prepared, managed)
    errs = validate_update(endpoint, prepared, stored, version)
    if errs:
        status = st.invalid_csr(name, errs)
        exact = fe.all_exact(errs)
        return _fail(
            status,
            [*rules, *sorted({e.rule for e in errs})],
            warnings,
            exact=exact,
            prefix=f"{st.QUALIFIED_KIND} {fe.go_quote(name)} is invalid: ",
            errors=errs,
        )

    denial = admission_update(endpoint, prepared, stored, user, authorizer)
    if denial is not None:
        rule = "CSR-ADM-APPROVE" if endpoint == "approval" else "CSR-ADM-SIGN"
        return _fail(denial, [*rules, rule], warnings)

    rules.extend(_endpoint_rules(endpoint, prepared, stored))
    if managed is not None:
        _ignore_managed_fields_timestamps(prepared, stored)
    dry_run = is_dry_run(query)
    if dry_run:
        rules.append("CSR-UPD-DRYRUN")
    prepared_meta = _meta(prepared)
    stored_deleting = bool(_str(stored_meta, "deletionTimestamp"))
    grace = stored_meta.get("deletionGracePeriodSeconds")
    if stored_deleting and not prepared_meta.get("finalizers") and grace in (None, 0):
        body = response_object(prepared)
        if managed is None:
            body["metadata"].pop("managedFields", None)
        return UpdateDecision(
            code=200,
            body=body,
            warnings=list(warnings),
            persist=not dry_run,
            rules=rules,
            object=prepared,
            deletes=True,
            request_managed_fields=request_managed,
        )

    same_managed = managed is None or _managed_of(prepared) == _managed_of(stored)
    if same_storage(prepared, stored) and same_managed:
        rules.append("CSR-SUB-NOOP")
        return UpdateDecision(
            code=200,
            body=response_object(stored),
            warnings=list(warnings),
            persist=False,
            rules=rules,
            noop=True,
            object=None,
            request_managed_fields=request_managed,
        )

    body = response_object(prepared)
    if managed is None:
        body["metadata"].pop("managedFields", None)
    if dry_run:
        return UpdateDecision(
            code=200,
            body=body,
            warnings=list(warnings),
            persist=False,
            rules=rules,
            object=prepared,
            request_managed_fields=request_managed,
        )
    to_store = copy.deepcopy(prepared)
    to_store["metadata"].pop("resourceVersion", None)
    if managed is None:
        to_store["metadata"].pop("managedFields", None)
    body["metadata"].pop("resourceVersion", None)
    return UpdateDecision(
        code=200,
        body=body,
        warnings=list(warnings),
        persist=True,
        rules=rules,
        object=to_store,
        storage_sets_resource_version=True,
        request_managed_fields=request_managed,
    )


def _endpoint_rules(
    endpoint: Endpoint, prepared: Mapping[str, Any], stored: Mapping[str, Any]
) -> list[str]:
    out = ["CSR-IMM-SPEC", "CSR-IMM-META", "CSR-SUB-META"]
    if endpoint == "main":
        out.append("CSR-SUB-MAIN-STATUS")
    elif endpoint == "approval":
        out += ["CSR-SUB-APPROVAL", "CSR-SUB-TIME", "CSR-ADM-APPROVE"]
    else:
        out += ["CSR-SUB-STATUS-AD", "CSR-SUB-STATUS-CERT", "CSR-SUB-TIME"]
        if signing_relevant_change(prepared, stored):
            out.append("CSR-ADM-SIGN")
    return out


# ---------------------------------------------------------------------------
# server-side apply
# ---------------------------------------------------------------------------

APPLY_UID_MISMATCH: Final = (
    "uid mismatch: the provided object specified uid {}, and no existing object was found"
)


class _DuplicateKeyLoader(yaml.SafeLoader):
    """A YAML loader that records duplicate mapping keys (go-yaml's strict mode refuses
    them; the lenient mode keeps the last value, as PyYAML does)."""

    duplicates: list[str]


def _construct_mapping(loader: _DuplicateKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | float | bool) and key in seen:
            loader.duplicates.append(
                f'line {key_node.start_mark.line + 1}: key "{key}" already set in map'
            )
        if isinstance(key, str | int | float | bool):
            seen.add(key)
    return dict(loader.construct_mapping(node, deep=True))


_DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_apply_yaml(body: bytes) -> tuple[Any, list[str]]:
    """The apply body as data, and any duplicate-key complaints (go-yaml wording)."""
    loader = _DuplicateKeyLoader(body.decode("utf-8", errors="replace"))
    loader.duplicates = []
    try:
        value = loader.get_single_data()
    finally:
        loader.dispose()
    return value, list(loader.duplicates)


def _has_surrogate(value: Any) -> bool:
    """Whether a loaded YAML value holds a lone UTF-16 surrogate (only an escape makes one)."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _force(query: Mapping[str, Sequence[str]]) -> bool:
    """``Convert_Slice_string_To_Pointer_bool``: only ``0`` and ``false`` are false."""
    value = query_first(query, "force")
    if query.get("force") is None:
        return False
    return not (value == "0" or value.lower() == "false")


def _go_kind_word(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _decide_apply(
    endpoint: Endpoint,
    name: str,
    body: bytes,
    query: Mapping[str, Sequence[str]],
    user: UserInfo | None,
    authorizer: Authorizer,
    stored: Mapping[str, Any] | None,
    now: str,
    uid: str,
    rules: list[str],
    version: KubeVersion,
    *,
    managed_now: str,
) -> UpdateDecision:
    """``applyPatcher`` through ``Store.Update`` (which creates on the main resource)."""
    ssa = _ssa()
    directive = field_validation_directive(query)
    early = EARLY_PATCH_VALIDATION.applies(version)
    # What applyPatcher calls the body in its errors: "patch" from 1.37, "YAML" before.
    noun = "patch" if early else "YAML"
    try:
        doc, duplicates = load_apply_yaml(body)
    except yaml.YAMLError as exc:
        if early:  # validateAndTranscodePatch, before the object is read
            prefix = "error encoding patch: "
        elif stored is None and endpoint != "main":
            return _fail(st.not_found(name), [*rules, "CSR-UPD-404"])
        else:
            prefix = "error decoding YAML: error converting YAML to JSON: "
        return _fail(st.bad_request(prefix + str(exc)), rules, exact=False, prefix=prefix)
    if stored is None and endpoint != "main" and not early:
        return _fail(st.not_found(name), [*rules, "CSR-UPD-404"])
    if _has_surrogate(doc):
        # go-yaml refuses a \u escape of a UTF-16 surrogate (so the surrogate pairs JSON
        # encoders write for characters beyond the BMP); PyYAML decodes them one by one.
        prefix = f"error decoding {noun}: error converting YAML to JSON: yaml: "
        message = prefix + "found invalid Unicode character escape code"
        return _fail(st.bad_request(message), rules, exact=b"\n" not in body, prefix=prefix)
    if stored is None and endpoint != "main":
        return _fail(st.not_found(name), [*rules, "CSR-UPD-404"])
    if doc is not None and not isinstance(doc, dict):
        return _fail(
            st.bad_request(
                f"error decoding {noun}: error unmarshaling JSON: while decoding JSON: json: "
                f"cannot unmarshal {_go_kind_word(doc)} into Go value of type "
                "map[string]interface {}"
            ),
            rules,
        )
    manager = query_first(query, "fieldManager")
    result = ssa.apply(endpoint, stored, doc, manager, _force(query), managed_now)
    if result.error is not None:
        return _fail(result.error, rules)
    warnings: list[str] = []
    if duplicates and directive in ("Warn", "Strict"):
        text = "yaml: unmarshal errors:\n  " + "\n  ".join(duplicates)
        if directive == "Strict":
            prefix = f"error strict decoding {noun}: "
            return _fail(st.bad_request(prefix + text), rules, exact=False, prefix=prefix)
        header = warning_header(text)
        if header is not None:
            warnings.append(header)
    new: dict[str, Any] = copy.deepcopy(result.obj)
    meta = _meta(new)
    if stored is None and _str(meta, "uid"):
        return _fail(
            st.conflict(name, APPLY_UID_MISMATCH.format(_str(meta, "uid"))), rules, warnings
        )
    meta.pop("namespace", None)
    new["metadata"] = meta
    if _str(meta, "name") != name:
        return _fail(st.name_mismatch(_str(meta, "name"), name), [*rules, "CSR-UPD-NAME"], warnings)
    header = _dedup_owner_references(new, DUPLICATE_OWNER_REFS_AFTER_ADMISSION)
    if header is not None:
        warnings.append(header)
    managed = list(result.managed_fields)
    if stored is None:
        return _create_by_apply(
            new, name, query, user, authorizer, now, uid, warnings, rules, version
        )
    decision = _update_in_store(
        endpoint,
        name,
        new,
        stored,
        query,
        user,
        authorizer,
        now,
        warnings,
        rules,
        None,
        managed,
        version,
    )
    if decision.code == 200:
        decision.request_object = copy.deepcopy(new)
    return decision


def _create_by_apply(
    obj: dict[str, Any],
    name: str,
    query: Mapping[str, Sequence[str]],
    user: UserInfo | None,
    authorizer: Authorizer,
    now: str,
    uid: str,
    warnings: list[str],
    rules: list[str],
    version: KubeVersion,
) -> UpdateDecision:
    """An apply to a missing main resource runs the create path (§10.9): system fields
    wiped and filled, PrepareForCreate, create validation, then the ``create``
    authorization check and CertificateSubjectRestriction, then 201."""
    meta = _meta(obj)
    wiped = ["creationTimestamp", "uid"]
    if APPLY_CREATE_WIPES_SYSTEM_FIELDS.applies(version):
        wiped += ["deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]
    for key in wiped:
        meta.pop(key, None)
    meta["creationTimestamp"] = now
    meta["uid"] = uid
    obj["metadata"] = meta
    prepared = prepare_for_create(obj, user)
    errs = validate_create(prepared, version)
    if errs:
        return _fail(
            st.invalid_csr(name, errs),
            [*rules, *sorted({e.rule for e in errs})],
            warnings,
            exact=fe.all_exact(errs),
            prefix=f"{st.QUALIFIED_KIND} {fe.go_quote(name)} is invalid: ",
            errors=errs,
        )
    username = user.username if user is not None else "system:anonymous"
    if not authorizer("create", st.RESOURCE, name):
        reason = (
            f"User {fe.go_quote(username)} cannot create resource {fe.go_quote(st.RESOURCE)} "
            f"in API group {fe.go_quote(st.GROUP)} at the cluster scope"
        )
        return _fail(st.forbidden(name, reason), [*rules, "CSR-AUTHZ-RBAC"], warnings)
    denial = subject_restriction(prepared)
    if denial is not None:
        return _fail(st.forbidden(name, denial), [*rules, "CSR-ADM-SUBJ"], warnings)
    dry_run = is_dry_run(query)
    body = response_object(prepared)
    body["metadata"].pop("resourceVersion", None)
    to_store = copy.deepcopy(prepared)
    to_store["metadata"].pop("resourceVersion", None)
    return UpdateDecision(
        code=201,
        body=body,
        warnings=list(warnings),
        persist=not dry_run,
        rules=[*rules, "CSR-CREATE-201", "CSR-CREATE-PREP-ID", "CSR-CREATE-PREP-STATUS"]
        + (["CSR-UPD-DRYRUN"] if dry_run else []),
        object=to_store,
        storage_sets_resource_version=not dry_run,
        request_object=copy.deepcopy(obj),
    )
