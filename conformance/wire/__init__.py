"""kube-apiserver's wire formats for the CSR API, beyond plain JSON.

- ``schema``: one compact description of the CertificateSigningRequest types and the
  meta/v1 types they use (JSON names, protobuf field numbers, Go ``omitempty`` habits,
  list and map semantics, and our own short descriptions). The other modules derive
  everything from it, so the three views cannot drift apart.
- ``protobuf``: the ``application/vnd.kubernetes.protobuf`` encoding, by hand.
- ``openapi``: the OpenAPI v2 and v3 documents kubectl reads for explain, validation and
  apply.
- ``gojson``: JSON text the way Go's encoder writes it (where exact bytes matter).
"""
