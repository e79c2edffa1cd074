"""csr-conformance."""
