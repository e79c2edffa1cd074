"""PATCH of a CSR up to the patched object: content type, options, decoding, applying.

Order, as ``PatchResource`` and the patcher run it in kube-apiserver v1.37 (§10):

1. go-restful's route filter: the Content-Type (parameters cut, spaces trimmed, any of a
   comma-separated list) must be one of the four patch types, else **415**
   ``415: Unsupported Media Type`` with empty details;
2. the handler's own check on the text before the first ``;`` (no trimming), else 415
   listing the accepted types;
3. ``ValidatePatchOptions`` (**422** ``PatchOptions``): ``force`` only with apply (any
   ``force`` parameter counts, even ``force=false``), ``fieldManager`` required for apply,
   then the fieldManager/dryRun/fieldValidation rules of create;
4. the body must be valid JSON (**400** ``invalid JSON patch``) — before the object is
   even looked up;
5. the object is read (404 if missing) and the patch applied to its v1 JSON encoding
   (json/merge) or to its unstructured form (strategic); the result is decoded back with
   the strict decoder under Warn/Strict.

What a failure looks like depends on where it happens: patch-document decode errors are
400; a failed JSON patch operation is a generic 422 whose text does *not* contain the
library's message (confirmed on the real server); a result that does not decode is a 422
whose single cause is the ``patch`` field with the whole patched document as its value.

Upstream: apiserver ``endpoints/handlers/patch.go``, go-restful v3 ``route.go``
(``matchesContentType``), apimachinery ``apis/meta/v1/validation`` and
``runtime/conversion.go`` (``force`` parsing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.decode import (
    JSONSyntaxError,
    _Num,
    _Obj,
    decode_body,
    parse_json,
)
from conformance.oracle.apimachinery.jsonpatch import (
    MAX_JSON_PATCH_OPERATIONS,
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    decode_patch,
)
from conformance.oracle.apimachinery.smp import SMPError, strategic_merge
from conformance.oracle.changes import EARLY_PATCH_VALIDATION
from conformance.oracle.csr.create import query_first, validate_create_options, warning_header
from conformance.oracle.csr.validation import with_rule
from conformance.oracle.golang.jsonencode import encode_csr, go_format_v, marshal, to_unstructured
from conformance.oracle.golang.jsonscan import syntax_error
from conformance.oracle.versions import release
from conformance.wire.schema import OBJECT_META_FIELDS

JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_PATCH: Final = "application/strategic-merge-patch+json"
APPLY_PATCH: Final = "application/apply-patch+yaml"
PATCH_TYPES: Final[tuple[str, ...]] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

RULE_FOR_TYPE: Final[Mapping[str, str]] = {
    JSON_PATCH: "CSR-PATCH-JSON",
    MERGE_PATCH: "CSR-PATCH-MERGE",
    STRATEGIC_PATCH: "CSR-PATCH-SMP",
    APPLY_PATCH: "CSR-PATCH-APPLY",
}

GENERIC_422_MESSAGE: Final = "the server rejected our request due to an error in our request"


# ---------------------------------------------------------------------------
# Status bodies particular to PATCH
# ---------------------------------------------------------------------------


def _generic(code: int, reason: str, message: str) -> st.Status:
    """``NewGenericServerResponse``: details present but empty (``{}``)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {},
        "code": code,
    }


def restful_unsupported_media_type() -> st.Status:
    """What go-restful's Consumes filter answers (through the apiserver's error handler)."""
    return _generic(415, "UnsupportedMediaType", "415: Unsupported Media Type")


def generic_unprocessable() -> st.Status:
    """The 422 for a failed JSON patch operation or a strategic-merge content error."""
    return _generic(422, "Invalid", GENERIC_422_MESSAGE)


def entity_too_large(ops: int) -> st.Status:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Request entity too large: The allowed maximum operations in a JSON patch "
        f"is {MAX_JSON_PATCH_OPERATIONS}, got {ops}",
        "reason": "RequestEntityTooLarge",
        "code": 413,
    }


def invalid_patch(errors: Sequence[fe.FieldError]) -> st.Status:
    """``NewInvalid(schema.GroupKind{}, "", …)``: the message starts with ``' "" is invalid'``."""
    return st.invalid("", "", "", errors)


INVALID_PATCH_PREFIX: Final = ' "" is invalid: patch: Invalid value: '


# ---------------------------------------------------------------------------
# content type and options
# ---------------------------------------------------------------------------


def restful_accepts(content_type: str | None) -> bool:
    """go-restful ``matchesContentType`` for the PATCH routes."""
    value = (content_type or "").strip(" \t")
    if not value:
        value = "application/octet-stream"
    for part in value.split(","):
        media = part.split(";", 1)[0] if ";" in part else part
        if media.strip(" ") in PATCH_TYPES:
            return True
    return False


def handler_patch_type(content_type: str | None) -> str | None:
    """``PatchResource``'s own check: the text before the first ``;``, matched exactly."""
    value = (content_type or "").strip(" \t")
    idx = value.find(";")
    if idx > 0:
        value = value[:idx]
    return value if value in PATCH_TYPES else None


def check_patch_content_type(content_type: str | None) -> tuple[str | None, st.Status | None]:
    """The patch type, or the 415 the server sends."""
    if not restful_accepts(content_type):
        return None, restful_unsupported_media_type()
    patch_type = handler_patch_type(content_type)
    if patch_type is None:
        return None, st.unsupported_media_type(accepted=PATCH_TYPES)
    return patch_type, None


def _has(query: Mapping[str, Sequence[str]], key: str) -> bool:
    values = query.get(key)
    if values is None:
        return False
    return bool([values] if isinstance(values, str) else list(values))


def validate_patch_options(
    query: Mapping[str, Sequence[str]], patch_type: str
) -> list[fe.FieldError]:
    """``ValidatePatchOptions``: the apply-specific rule first, then the shared ones."""
    errs: list[fe.FieldError] = []
    if patch_type == APPLY_PATCH:
        if query_first(query, "fieldManager") == "":
            errs.append(
                fe.required("CSR-PATCH-OPTS", "fieldManager", "is required for apply patch")
            )
    elif _has(query, "force"):
        errs.append(
            fe.forbidden("CSR-PATCH-OPTS", "force", "may not be specified for non-apply patch")
        )
    errs.extend(with_rule(e, "CSR-PATCH-OPTS") for e in validate_create_options(query))
    return errs


def check_patch_body(body: bytes, patch_type: str) -> st.Status | None:
    """``validateAndTranscodePatch`` for the JSON patch types: the body must be valid JSON."""
    if patch_type == APPLY_PATCH:
        return None
    try:
        parse_json(body)
    except JSONSyntaxError:
        return st.bad_request("invalid JSON patch")
    return None


# ---------------------------------------------------------------------------
# strict decoding of patch documents (sigs.k8s.io/json)
# ---------------------------------------------------------------------------


def _kind_word(value: Any) -> str:
    if isinstance(value, _Obj):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Num):
        return "number"
    return "null"


def _path(stack: str, key: str) -> str:
    return f"{stack}.{key}" if stack else key


def _interface_duplicates(value: Any, stack: str, out: list[str]) -> None:
    """Duplicate keys anywhere inside a value decoded into ``interface{}``."""
    if isinstance(value, _Obj):
        seen: set[str] = set()
        for key, item in value:
            if key in seen:
                _add_strict(out, "duplicate field", _path(stack, key))
            seen.add(key)
            _interface_duplicates(item, _path(stack, key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _interface_duplicates(item, f"{stack}[{i}]", out)


def _add_strict(out: list[str], kind: str, path: str) -> None:
    text = f"{kind} {fe.go_quote(path)}"
    if text not in out and len(out) < 100:
        out.append(text)


def strict_map_patch(body: bytes) -> tuple[str | None, list[str]]:
    """``kjson.UnmarshalStrict(body, &map[string]any{})``: (error, strict errors)."""
    doc = parse_json(body)
    if doc is not None and not isinstance(doc, _Obj):
        return (
            f"json: cannot unmarshal {_kind_word(doc)} into Go value of type "
            "map[string]interface {}",
            [],
        )
    strict: list[str] = []
    _interface_duplicates(doc, "", strict)
    return None, strict


_OP_FIELDS: Final = ("op", "path", "from", "value")


def strict_json_patch(body: bytes) -> tuple[str | None, list[str]]:
    """``kjson.UnmarshalStrict(body, &[]jsonPatchOp{})``: (first type error, strict errors)."""
    doc = parse_json(body)
    if doc is None:
        return None, []
    if not isinstance(doc, list) or isinstance(doc, _Obj):
        return (
            f"json: cannot unmarshal {_kind_word(doc)} into Go value of type "
            "[]handlers.jsonPatchOp",
            [],
        )
    first: str | None = None
    strict: list[str] = []
    for i, element in enumerate(doc):
        if element is None:
            continue
        if not isinstance(element, _Obj):
            first = first or (
                f"json: cannot unmarshal {_kind_word(element)} into Go value of type "
                "handlers.jsonPatchOp"
            )
            continue
        seen: set[str] = set()
        for key, value in element:
            where = f"[{i}].{key}"
            if key not in _OP_FIELDS:
                _add_strict(strict, "unknown field", where)
                continue
            if key in seen:
                _add_strict(strict, "duplicate field", where)
            seen.add(key)
            if key == "value":
                _interface_duplicates(value, where, strict)
            elif value is not None and not isinstance(value, str):
                first = first or (
                    f"json: cannot unmarshal {_kind_word(value)} into Go struct field "
                    f"jsonPatchOp.{key} of type string"
                )
    return first, strict


def _to_plain(value: Any) -> Any:
    """A parsed document as Go's ``interface{}`` with PreserveInts (int64 else float64)."""
    if isinstance(value, _Obj):
        return {k: _to_plain(v) for k, v in value}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    if isinstance(value, _Num):
        text = value.literal
        body = text[1:] if text.startswith("-") else text
        if body.isdigit():
            n = int(text)
            if -(1 << 63) <= n < (1 << 63):
                return n
        return float(text)
    return value


# ---------------------------------------------------------------------------
# applying the patch
# ---------------------------------------------------------------------------


@dataclass
class PatchResult:
    """The patched object (decoded v1 dict), or the error response the server sends."""

    obj: dict[str, Any] | None = None
    error: st.Status | None = None
    warnings: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    exact: bool = True
    message_prefix: str = ""
    errors: list[fe.FieldError] = field(default_factory=list)


def _fail(
    status: st.Status,
    rule: str,
    *,
    exact: bool = True,
    prefix: str = "",
    errors: Sequence[fe.FieldError] = (),
) -> PatchResult:
    return PatchResult(
        error=status,
        rules=[rule],
        exact=exact,
        message_prefix=prefix if not exact else str(status.get("message", "")),
        errors=list(errors),
    )


def _warnings(texts: Sequence[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        header = warning_header(text)
        if header is not None and header not in out:
            out.append(header)
    return out


def _decode_patched(
    patched: bytes,
    applied_strict: Sequence[str],
    directive: str,
    rule: str,
    url_name: str,
) -> PatchResult:
    """``runtime.DecodeInto`` of a JSON/merge patch result, with the strict-error rules."""
    strict_mode = directive in ("Warn", "Strict")
    top = parse_json(patched)
    if isinstance(top, _Obj):
        api_version = ""
        for key, value in top:
            if key == "apiVersion":
                api_version = value if isinstance(value, str) else ""
        if api_version == "":
            return _decode_into_internal(top, applied_strict, directive, rule, url_name)
    decoded = decode_body(patched, strict=strict_mode)
    bad_value = fe.RawJSON(fe.go_quote(patched))
    if not decoded.ok:
        detail = decoded.raw_error or ""
        err = fe.invalid(rule, "patch", bad_value, detail, detail_exact=decoded.exact)
        prefix = f"{INVALID_PATCH_PREFIX}{bad_value.text}: "
        return _fail(invalid_patch([err]), rule, exact=decoded.exact, prefix=prefix, errors=[err])
    all_strict = [*applied_strict, *decoded.strict_errors]
    if all_strict and directive == "Strict":
        err = fe.invalid(
            "CSR-PATCH-FIELDVAL",
            "patch",
            bad_value,
            "strict decoding error: " + ", ".join(all_strict),
        )
        return _fail(invalid_patch([err]), "CSR-PATCH-FIELDVAL", errors=[err])
    result = PatchResult(obj=decoded.obj, rules=[rule])
    if all_strict:
        result.warnings = _warnings(all_strict)
        result.rules.append("CSR-PATCH-FIELDVAL")
    return result


def _decode_into_internal(
    top: _Obj,
    applied_strict: Sequence[str],
    directive: str,
    rule: str,
    url_name: str,
) -> PatchResult:
    """A patch result without ``apiVersion`` is decoded into the *internal* Go type
    (whose JSON names are the promoted ObjectMeta fields and Go field names), so
    ``metadata``/``spec``/``status`` are unknown fields and the name comes out empty."""
    unknown: list[str] = []
    name = ""
    for key, value in top:
        if key in ("apiVersion", "kind"):
            continue
        if key in OBJECT_META_FIELDS:
            if key == "name" and isinstance(value, str):
                name = value
            continue
        _add_strict(unknown, "unknown field", key)
    all_strict = [*applied_strict, *unknown] if directive in ("Warn", "Strict") else []
    if all_strict and directive == "Strict":
        return PatchResult(
            error=invalid_patch([]),
            rules=[rule, "CSR-PATCH-FIELDVAL"],
            exact=False,
            message_prefix=INVALID_PATCH_PREFIX,
        )
    warnings = _warnings(all_strict)
    if name == "":
        return PatchResult(
            error=st.name_mismatch("", url_name), warnings=warnings, rules=[rule, "CSR-UPD-NAME"]
        )
    if name != url_name:
        return PatchResult(
            error=st.name_mismatch(name, url_name),
            warnings=warnings,
            rules=[rule, "CSR-UPD-NAME"],
        )
    # The object would go on with an empty spec and status; not modelled further.
    return PatchResult(
        error=generic_unprocessable(),
        warnings=warnings,
        rules=[rule],
        exact=False,
        message_prefix="",
    )


def apply_patch(
    patch_type: str,
    body: bytes,
    stored: Mapping[str, Any],
    directive: str,
    url_name: str,
) -> PatchResult:
    """Apply a JSON, merge or strategic merge patch to the stored object and decode it.

    ``directive`` is the effective fieldValidation (``Warn`` when the parameter is empty).
    """
    rule = RULE_FOR_TYPE[patch_type]
    strict_mode = directive in ("Warn", "Strict")
    if not EARLY_PATCH_VALIDATION.applies(release()):
        legacy = _legacy_syntax_error(patch_type, body, strict_mode)
        if legacy is not None:
            return _fail(st.bad_request(legacy), rule)
    if patch_type == JSON_PATCH:
        applied: list[str] = []
        if strict_mode:
            err, strict = strict_json_patch(body)
            if err is not None:
                return _fail(st.bad_request(f"error decoding patch: {err}"), rule)
            applied = [f"json patch {s}" for s in strict]
        ops = decode_patch(body)
        if isinstance(ops, PatchError):
            return _fail(st.bad_request(ops.message), rule)
        if len(ops) > MAX_JSON_PATCH_OPERATIONS:
            return _fail(entity_too_large(len(ops)), rule)
        patched = apply_json_patch(encode_csr(stored), ops)
        if isinstance(patched, PatchError):
            if patched.kind == "panic":
                return _fail(st.internal_error(patched.message), rule, exact=False, prefix="")
            return _fail(generic_unprocessable(), rule)
        return _decode_patched(patched, applied, directive, rule, url_name)

    if patch_type == MERGE_PATCH:
        applied = []
        if strict_mode:
            err, strict = strict_map_patch(body)
            if err is not None:
                return _fail(st.bad_request(f"error decoding patch: {err}"), rule)
            applied = strict
        merged = apply_merge_patch(encode_csr(stored), body)
        if isinstance(merged, PatchError):
            if merged.kind == "panic":
                return _fail(st.internal_error(merged.message), rule, exact=False, prefix="")
            return _fail(st.bad_request(merged.message), rule)
        return _decode_patched(merged, applied, directive, rule, url_name)

    if patch_type == STRATEGIC_PATCH:
        return _apply_strategic(body, stored, directive, rule)
    raise NotImplementedError(f"patch type {patch_type} is applied elsewhere")


def _legacy_syntax_error(patch_type: str, body: bytes, strict_mode: bool) -> str | None:
    """Before 1.37 a body that is not JSON reached each patch type's own decoder (the
    object already read, so a missing name was a 404 first): JSON and merge patches
    decode strictly under Warn/Strict (``error decoding patch: <scanner error>``), else
    json-patch's ``DecodePatch`` says the scanner error and a merge patch ``Invalid JSON
    Patch``; a strategic merge patch says the scanner error alone."""
    problem = syntax_error(body)
    if problem is None:
        return None
    if patch_type in (JSON_PATCH, MERGE_PATCH) and strict_mode:
        return f"error decoding patch: {problem}"
    if patch_type == MERGE_PATCH:
        return "Invalid JSON Patch"
    return problem


def _apply_strategic(
    body: bytes, stored: Mapping[str, Any], directive: str, rule: str
) -> PatchResult:
    strict_mode = directive in ("Warn", "Strict")
    doc = parse_json(body)
    if doc is not None and not isinstance(doc, _Obj):
        return _fail(
            st.bad_request(
                f"json: cannot unmarshal {_kind_word(doc)} into Go value of type "
                "map[string]interface {}"
            ),
            rule,
        )
    applied: list[str] = []
    if strict_mode:
        _interface_duplicates(doc, "", applied)
    patch_map = _to_plain(doc)
    original = to_unstructured(stored)
    try:
        merged = strategic_merge(original, patch_map)
    except SMPError as exc:
        # Go walks maps in random order: with several members in play the server may
        # meet a different problem first (even one with another status code).
        exact = not _several_members(patch_map)
        if exc.code == 400:
            return _fail(st.bad_request(exc.message), rule, exact=exact)
        if exc.code == 422:
            return _fail(generic_unprocessable(), rule, exact=exact)
        return _fail(st.internal_error(exc.message), rule, exact=exact)
    bad_value = fe.RawJSON(fe.go_quote("<nil>" if patch_map is None else go_format_v(patch_map)))
    merged["apiVersion"] = st.API_VERSION
    merged["kind"] = st.KIND
    decoded = decode_body(_marshal_unstructured(merged), strict=strict_mode)
    if not decoded.ok:
        # FromUnstructured words its errors differently from the JSON decoder.
        err = fe.invalid(rule, "patch", bad_value, decoded.raw_error or "", detail_exact=False)
        prefix = f"{INVALID_PATCH_PREFIX}{bad_value.text}: "
        return _fail(invalid_patch([err]), rule, exact=False, prefix=prefix, errors=[err])
    unknown = sorted(decoded.strict_errors)
    all_strict = [*applied, *unknown]
    if all_strict and directive == "Strict":
        err = fe.invalid(
            "CSR-PATCH-FIELDVAL",
            "patch",
            bad_value,
            "strict decoding error: " + ", ".join(all_strict),
        )
        return _fail(invalid_patch([err]), "CSR-PATCH-FIELDVAL", errors=[err])
    result = PatchResult(obj=decoded.obj, rules=[rule])
    if all_strict:
        result.warnings = _warnings(all_strict)
        result.rules.append("CSR-PATCH-FIELDVAL")
    return result


def _several_members(value: Any) -> bool:
    """Whether any object in ``value`` has more than one member."""
    if isinstance(value, dict):
        return len(value) > 1 or any(_several_members(v) for v in value.values())
    if isinstance(value, list):
        return any(_several_members(v) for v in value)
    return False


def _integral(value: Any) -> Any:
    """FromUnstructured converts integral floats to integer fields; JSON would refuse
    ``2.0``, so integral floats are written as integers before decoding."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _marshal_unstructured(obj: Mapping[str, Any]) -> bytes:
    return marshal(_integral(dict(obj)), sort_keys=False).encode("utf-8", errors="surrogatepass")


__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "STRATEGIC_PATCH",
    "PatchResult",
    "apply_patch",
    "check_patch_body",
    "check_patch_content_type",
    "strict_json_patch",
    "strict_map_patch",
    "validate_patch_options",
]
