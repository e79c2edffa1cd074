"""Turning a kubeconfig context into something that can send raw HTTP.

The ``kubernetes`` package does the hard part of kubeconfig handling (tokens, client
certificates, exec plugins, CA data, insecure-skip-tls-verify); we take the resulting
``Configuration`` and drive urllib3 ourselves so that responses arrive as bytes, never as
generated model objects (design rule 1).
"""

from __future__ import annotations

import contextlib
import io
import ssl
from dataclasses import dataclass
from typing import Any

import urllib3

from conformance.client.errors import KubeconfigError


class _NoAuth:
    username = ""
    password = ""

    def get_api_key_with_prefix(self, _key: str) -> None:
        return None


@dataclass
class Connection:
    """Where a context points and how to authenticate there."""

    context: str
    host: str
    pool: urllib3.PoolManager
    _config: Any  # kubernetes.client.Configuration; kept for exec-plugin token refresh

    def auth_header(self) -> str | None:
        """The Authorization value, refreshed through the exec plugin hook when it has one."""
        # The kubernetes package has stored the token under both names over the years.
        for key in ("BearerToken", "authorization"):
            value = self._config.get_api_key_with_prefix(key)
            if value:
                return str(value)
        if self._config.username or self._config.password:
            headers = urllib3.util.make_headers(
                basic_auth=f"{self._config.username}:{self._config.password}"
            )
            return str(headers["authorization"])
        return None

    def without_credentials(self) -> Connection:
        """The same server and trust, but no client certificate and no token.

        A client certificate would authenticate the request before any bearer token is
        looked at, so tests of token rejection need a connection that carries neither.
        """
        kw = {
            k: v
            for k, v in self.pool.connection_pool_kw.items()
            if k not in ("cert_file", "key_file")
        }
        pool = urllib3.PoolManager(**kw)
        return Connection(self.context, self.host, pool, _NoAuth())

    @classmethod
    def from_kubeconfig(cls, path: str | None, context: str | None) -> Connection:
        """Load one context; every failure becomes a one-line KubeconfigError."""
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        try:
            # The loader prints nothing useful on failure but may log; keep stdout clean.
            with contextlib.redirect_stdout(io.StringIO()):
                kconfig.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=path,
                    context=context,
                    client_configuration=cfg,
                    persist_config=False,
                )
        except FileNotFoundError as e:
            raise KubeconfigError(f"kubeconfig not found: {e.filename or path}") from None
        except Exception as e:  # the loader raises many types; all mean "unusable"
            where = f"context {context!r} of " if context else ""
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise KubeconfigError(
                f"cannot use {where}kubeconfig {path or '~/.kube/config'}: {msg}"
            ) from None
        host = str(cfg.host).rstrip("/")
        if not host.startswith(("http://", "https://")):
            raise KubeconfigError(
                f"kubeconfig context {context!r} has an unusable server URL {host!r}"
            )
        pool_kw: dict[str, Any] = {"maxsize": 8, "retries": False}
        if host.startswith("https://"):
            if cfg.verify_ssl:
                pool_kw["cert_reqs"] = ssl.CERT_REQUIRED
                if cfg.ssl_ca_cert:
                    pool_kw["ca_certs"] = cfg.ssl_ca_cert
                if cfg.tls_server_name:
                    pool_kw["server_hostname"] = cfg.tls_server_name
                if cfg.assert_hostname is not None:
                    pool_kw["assert_hostname"] = cfg.assert_hostname
            else:
                pool_kw["cert_reqs"] = ssl.CERT_NONE
                pool_kw["assert_hostname"] = False
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            if cfg.cert_file:
                pool_kw["cert_file"] = cfg.cert_file
            if cfg.key_file:
                pool_kw["key_file"] = cfg.key_file
        pool: urllib3.PoolManager
        if cfg.proxy:
            pool = urllib3.ProxyManager(cfg.proxy, **pool_kw)
        else:
            pool = urllib3.PoolManager(**pool_kw)
        return cls(context=context or "", host=host, pool=pool, _config=cfg)
