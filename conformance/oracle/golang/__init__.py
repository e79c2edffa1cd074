"""Ports of the Go standard library behaviour kube-apiserver's answers depend on: the JSON
scanner's error texts, the JSON encoder, base64 and PEM decoding, and the Unicode tables
Go quotes with."""
