"""``spec.signerName`` rules S1–S6, with kube-apiserver v1.37's exact messages.

Upstream: ``pkg/apis/core/validation/names.go`` ``ValidateSignerName`` (shared by CSRs and
ClusterTrustBundles) and apimachinery ``pkg/util/validation`` ``IsDNS1123Label`` /
``IsDNS1123Subdomain`` (whose length message says "characters", unlike the newer
``api/validate/content`` helpers that say "bytes"). The CSR validator checks the legacy
signer first and runs ``ValidateSignerName`` only when that check did not fire.

Facts worth knowing when reading the messages:
- Each failing DNS check can yield two errors for one label (length *and* format).
- Only the first bad domain label and the first bad path piece are reported, but the
  domain-length, two-label and total-length checks are independent of them.
- All lengths are byte lengths of the UTF-8 encoding.
"""

from __future__ import annotations

import re
from typing import Final

from conformance.oracle.apimachinery import fielderrors as fe

SIGNER_FIELD: Final = "spec.signerName"
LEGACY_UNKNOWN: Final = "kubernetes.io/legacy-unknown"
KUBE_APISERVER_CLIENT: Final = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET: Final = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING: Final = "kubernetes.io/kubelet-serving"

DNS1123_LABEL_MAX: Final = 63
DNS1123_SUBDOMAIN_MAX: Final = 253
MAX_DOMAIN_LENGTH: Final = DNS1123_SUBDOMAIN_MAX
MAX_PATH_LENGTH: Final = DNS1123_SUBDOMAIN_MAX + DNS1123_LABEL_MAX + 1
MAX_SIGNER_NAME_LENGTH: Final = MAX_DOMAIN_LENGTH + MAX_PATH_LENGTH + 1  # 571

_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT: Final = _LABEL_FMT + "(\\." + _LABEL_FMT + ")*"
_LABEL_RE: Final = re.compile("^" + _LABEL_FMT + "$")
_SUBDOMAIN_RE: Final = re.compile("^" + _SUBDOMAIN_FMT + "$")
_LABEL_ERR: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_ERR: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)

S3_MESSAGE: Final = (
    "must be a fully qualified domain and path of the form 'example.com/signer-name'"
)
TWO_LABELS_MESSAGE: Final = "should be a domain with at least two segments separated by dots"
LEGACY_MESSAGE: Final = "the legacy signerName is not allowed via this API version"


def _blen(s: str) -> int:
    return len(s.encode("utf-8", errors="surrogatepass"))


def _full_match(pattern: re.Pattern[str], value: str) -> bool:
    # Go's regexp `$` matches only at the very end (no trailing-newline allowance).
    return pattern.fullmatch(value) is not None


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """apimachinery ``RegexError``."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    # Go appends " or " before every example but the first, then "'x', ".
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    """``util/validation.MaxLenError`` (the "characters" wording)."""
    return f"must be no more than {length} characters"


def is_dns1123_label(value: str) -> list[str]:
    """``util/validation.IsDNS1123Label``."""
    errs: list[str] = []
    if _blen(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _full_match(_LABEL_RE, value):
        if _full_match(_SUBDOMAIN_RE, value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_LABEL_ERR, _LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """``util/validation.IsDNS1123Subdomain``."""
    errs: list[str] = []
    if _blen(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _full_match(_SUBDOMAIN_RE, value):
        errs.append(regex_error(_SUBDOMAIN_ERR, _SUBDOMAIN_FMT, "example.com"))
    return errs


def validate_signer_name(value: str, field: str = SIGNER_FIELD) -> list[fe.FieldError]:
    """``ValidateSignerName`` (S2–S6), in upstream order."""
    if value == "":
        return [fe.required("CSR-VAL-S2", field)]
    segments = value.split("/")
    if len(segments) != 2:
        return [fe.invalid("CSR-VAL-S3", field, value, S3_MESSAGE)]
    domain, path = segments
    errs: list[fe.FieldError] = []
    if _blen(domain) > MAX_DOMAIN_LENGTH:
        errs.append(fe.too_long("CSR-VAL-S4", field, MAX_DOMAIN_LENGTH))
    labels = domain.split(".")
    for lbl in labels:
        msgs = is_dns1123_label(lbl)
        if msgs:
            for msg in msgs:
                detail = f"validating label {fe.go_quote(lbl)}: {msg}"
                errs.append(fe.invalid("CSR-VAL-S4", field, domain, detail))
            break
    if len(labels) < 2:
        errs.append(fe.invalid("CSR-VAL-S4", field, domain, TWO_LABELS_MESSAGE))
    for piece in path.split("."):
        msgs = is_dns1123_subdomain(piece)
        if msgs:
            for msg in msgs:
                detail = f"validating label {fe.go_quote(piece)}: {msg}"
                errs.append(fe.invalid("CSR-VAL-S5", field, path, detail))
            break
    if _blen(value) > MAX_SIGNER_NAME_LENGTH:
        errs.append(fe.too_long("CSR-VAL-S6", field, MAX_SIGNER_NAME_LENGTH))
    return errs


def validate_csr_signer_name(
    value: str, field: str = SIGNER_FIELD, *, allow_legacy: bool = False
) -> list[fe.FieldError]:
    """The CSR validator's signer check: S1 first, otherwise ``ValidateSignerName``.

    ``allow_legacy`` is the update tolerance (old object already used the legacy signer).
    """
    if not allow_legacy and value == LEGACY_UNKNOWN:
        return [fe.invalid("CSR-VAL-S1", field, value, LEGACY_MESSAGE)]
    return validate_signer_name(value, field)


def is_kubernetes_signer_name(value: str) -> bool:
    """``IsKubernetesSignerName``: the domain is kubernetes.io or a subdomain of it."""
    host = value.split("/", 1)[0]
    return host == "kubernetes.io" or host.endswith(".kubernetes.io")
