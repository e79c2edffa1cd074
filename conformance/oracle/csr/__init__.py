"""The CertificateSigningRequest API as kube-apiserver serves it: create, update and its
strategies, admission, validation, the request, signer names, signing, delete, and the rule
catalogue every other part of the project joins on."""
