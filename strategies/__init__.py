"""Hypothesis strategies for CertificateSigningRequest conformance properties.

- ``keys``: a per-process pool of Ed25519, ECDSA and RSA keys (drawn, never generated per
  example).
- ``pem``: PKCS#10 requests: valid, malformed (labelled R1/R2/R3) and tolerated.
- ``names``: signer names, object names, generateName prefixes, labels, annotations.
- ``usages``, ``expiration``: ``spec.usages`` and ``spec.expirationSeconds`` values.
- ``csr``: whole v1 wire objects, valid and single-rule invalid.
"""
