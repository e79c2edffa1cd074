"""A fixed pool of private keys shared by every draw in a process.

Generating an RSA key takes tens of milliseconds (RSA-4096 takes a second or more on a
busy machine), which would dominate every example and trip Hypothesis's too-slow health
check. So keys are never generated per draw: each kind has a few numbered slots, a slot's
key is made the first time it is drawn and kept for the life of the process, and the
strategy draws slots, not keys.

Slots are ordered cheapest first (Ed25519, then ECDSA, then RSA by size), so a failing
example shrinks towards an Ed25519 key and the RSA slots are generated only when a run
actually reaches them.

Measured on the project's 2-core machine: Ed25519 and ECDSA keys take well under 1 ms;
RSA-2048 ~60 ms, RSA-3072 ~250 ms, RSA-4096 0.2-1.5 s; the whole pool ~2-4 s. Reloading
the pool from PEM (skipping the RSA consistency check) takes a few milliseconds, so
generated keys are also written to a cache file and reused by later processes:
``${XDG_CACHE_HOME:-~/.cache}/csr-conformance/keys.pem``. Set
``CSR_CONFORMANCE_KEY_CACHE`` to another path to move it, or to ``off`` to disable it.
These are throwaway test keys, but the file is still written with mode 0600.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final, Literal, get_args

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import strategies as st

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""The key types the pool holds (all accepted by kube-apiserver, rule CSR-VAL-R4)."""

Digest = hashes.SHA256 | hashes.SHA384 | hashes.SHA512
"""The digests requests are signed with (Ed25519 takes none)."""

KeyKind = Literal[
    "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096"
]

KEY_KINDS: Final[tuple[KeyKind, ...]] = get_args(KeyKind)
"""Every kind, cheapest to generate and to sign with first."""

POOL_SIZES: Final[dict[KeyKind, int]] = {
    "ed25519": 3,
    "ecdsa-p256": 3,
    "ecdsa-p384": 2,
    "ecdsa-p521": 2,
    "rsa-2048": 3,
    "rsa-3072": 2,
    "rsa-4096": 1,
}
"""Keys per kind. Small on purpose: draws need variety of kinds, not of keys."""

CACHE_ENV: Final = "CSR_CONFORMANCE_KEY_CACHE"

_CURVES: Final[dict[str, KeyKind]] = {
    "secp256r1": "ecdsa-p256",
    "secp384r1": "ecdsa-p384",
    "secp521r1": "ecdsa-p521",
}

_lock = threading.RLock()
_pool: dict[tuple[KeyKind, int], PrivateKey] = {}
_cache_loaded = False


def key_kind(key: PrivateKey) -> KeyKind:
    """The pool kind a key belongs to (raises ValueError for a size or curve outside it)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        kind = _CURVES.get(key.curve.name)
        if kind is None:
            raise ValueError(f"curve {key.curve.name} is not in the pool")
        return kind
    name = f"rsa-{key.key_size}"
    for k in KEY_KINDS:
        if k == name:
            return k
    raise ValueError(f"RSA size {key.key_size} is not in the pool")


def signature_hash(key: PrivateKey) -> Digest | None:
    """The digest a request signed by ``key`` uses by default (None for Ed25519)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = key.curve.key_size
        if size > 384:
            return hashes.SHA512()
        if size > 256:
            return hashes.SHA384()
    return hashes.SHA256()


def _generate(kind: KeyKind) -> PrivateKey:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind.startswith("ecdsa-"):
        curve: ec.EllipticCurve = {
            "ecdsa-p256": ec.SECP256R1(),
            "ecdsa-p384": ec.SECP384R1(),
            "ecdsa-p521": ec.SECP521R1(),
        }[kind]
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind.split("-")[1]))


def cache_path() -> Path | None:
    """Where the pool is persisted, or None when caching is switched off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        if configured.strip().lower() in ("", "0", "off", "no", "false", "none"):
            return None
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "csr-conformance" / "keys.pem"


def _load_cache() -> None:
    """Fill empty slots from the cache file; a missing or damaged file is simply ignored."""
    global _cache_loaded
    if _cache_loaded:
        return
    _cache_loaded = True
    path = cache_path()
    if path is None:
        return
    try:
        data = path.read_bytes()
    except OSError:
        return
    counts: dict[KeyKind, int] = dict.fromkeys(KEY_KINDS, 0)
    marker = b"-----BEGIN PRIVATE KEY-----"
    end = b"-----END PRIVATE KEY-----"
    for chunk in data.split(marker)[1:]:
        body, sep, _ = chunk.partition(end)
        if not sep:
            continue
        try:
            # Our own file: skipping RSA validation turns ~0.4 s of checks into ~0.
            loaded = serialization.load_pem_private_key(
                marker + body + end + b"\n", password=None, unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError):
            continue
        if not isinstance(
            loaded, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        ):
            continue
        try:
            kind = key_kind(loaded)
        except ValueError:
            continue
        index = counts[kind]
        if index < POOL_SIZES[kind]:
            _pool.setdefault((kind, index), loaded)
        counts[kind] = index + 1


def _save_cache() -> None:
    """Write the whole pool atomically; failures only cost start-up time later."""
    path = cache_path()
    if path is None:
        return
    parts: list[bytes] = []
    for kind in KEY_KINDS:
        for index in range(POOL_SIZES[kind]):
            key = _pool.get((kind, index))
            if key is None:
                break
            parts.append(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b"".join(parts))
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def pool_key(kind: KeyKind, index: int) -> PrivateKey:
    """The key in slot ``(kind, index)``, generated (and cached) on first use."""
    if not 0 <= index < POOL_SIZES[kind]:
        raise IndexError(f"{kind} has {POOL_SIZES[kind]} slots, not {index + 1}")
    slot = (kind, index)
    key = _pool.get(slot)
    if key is not None:
        return key
    with _lock:
        _load_cache()
        key = _pool.get(slot)
        if key is None:
            key = _generate(kind)
            _pool[slot] = key
            _save_cache()
        return key


def _kinds(kinds: Iterable[KeyKind] | None) -> tuple[KeyKind, ...]:
    if kinds is None:
        return KEY_KINDS
    wanted = set(kinds)
    unknown = wanted - set(KEY_KINDS)
    if unknown:
        raise ValueError(f"unknown key kinds: {sorted(unknown)}")
    if not wanted:
        raise ValueError("kinds must name at least one key kind")
    return tuple(k for k in KEY_KINDS if k in wanted)


def slots(kinds: Iterable[KeyKind] | None = None) -> tuple[tuple[KeyKind, int], ...]:
    """Every slot of the given kinds, cheapest first."""
    return tuple((k, i) for k in _kinds(kinds) for i in range(POOL_SIZES[k]))


def key_pool(kinds: Iterable[KeyKind] | None = None) -> list[PrivateKey]:
    """All keys of the given kinds, generating any that are missing.

    Call it once at session start (e.g. from a fixture) to pay key generation up front
    instead of inside the first examples that reach an RSA slot.
    """
    return [pool_key(k, i) for k, i in slots(kinds)]


def generated_slots() -> frozenset[tuple[KeyKind, int]]:
    """The slots holding a key right now (for checking that draws reuse the pool)."""
    return frozenset(_pool)


def clear_key_pool() -> None:
    """Forget every key and the cache-loaded flag; only tests of this module need this."""
    global _cache_loaded
    with _lock:
        _pool.clear()
        _cache_loaded = False


def private_keys(kinds: Iterable[KeyKind] | None = None) -> st.SearchStrategy[PrivateKey]:
    """Keys from the pool (all kinds by default); shrinks towards the first Ed25519 key.

    One strategy per set of kinds, built once (see ``strategies.names`` on why).
    """
    return _private_keys(_kinds(kinds))


@functools.cache
def _private_keys(kinds: tuple[KeyKind, ...]) -> st.SearchStrategy[PrivateKey]:
    return st.sampled_from(slots(kinds)).map(_slot_key)


def _slot_key(slot: tuple[KeyKind, int]) -> PrivateKey:
    return pool_key(*slot)
