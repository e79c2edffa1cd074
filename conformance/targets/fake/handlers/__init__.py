"""Request handlers, one module per verb family (create, read, delete) plus discovery."""
