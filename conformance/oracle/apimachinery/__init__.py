"""Generic API machinery every kube-apiserver resource goes through, ported for CSRs:
body decoding, field errors, Status bodies, list/watch options and selectors, and the
patch types (JSON patch, merge patch, strategic merge patch, server-side apply)."""
