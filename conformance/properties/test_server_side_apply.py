"""Server-side apply on a CSR: field ownership, conflicts between managers, force.

Apply is the one write whose answer depends on who wrote a field before: a field another
manager owns may be taken only with ``force``, else the answer is a 409 Conflict naming
the owner. Each example makes two managers apply different values to one field through
the main resource or ``/status``; the oracle (which runs the field manager) judges both
answers, managedFields included.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.identities import ADMIN
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import CONTENT_TYPES, create, send
from strategies.csr import valid_csr
from strategies.names import dns_labels

_KEYS = st.sampled_from(["app", "tier", "example.com/owner"])
_VALUES = st.sampled_from(["a", "b", "c-1", "d.2"])


def _apply_doc(obj: dict[str, Any], section: str, key: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {"name": obj["metadata"]["name"], section: {key: value}},
    }


@given(
    # Apply bodies are YAML: plain names keep YAML's own string escapes out of the example.
    csr=valid_csr(junk=False, names=dns_labels(1, 40)),
    section=st.sampled_from(["labels", "annotations"]),
    key=_KEYS,
    values=st.lists(_VALUES, min_size=2, max_size=2, unique=True),
    endpoint=st.sampled_from(["main", "status"]),
    force=st.booleans(),
)
@rules("CSR-PATCH-APPLY", "CSR-SUB-META")
def test_apply_conflicts_between_managers_unless_forced(
    csr: dict[str, Any],
    section: str,
    key: str,
    values: list[str],
    endpoint: str,
    force: bool,
) -> None:
    """Manager alpha applies a field; manager beta applying another value gets 409
    Conflict without force and takes the field with it."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        first, second = values
        for manager, value, extra in (
            ("alpha", first, {}),
            ("beta", second, {"force": ["true"]} if force else {}),
        ):
            send(
                session,
                role=ADMIN,
                endpoint=endpoint,
                method="PATCH",
                name=name,
                body=_apply_doc(obj, section, key, value),
                content_type=CONTENT_TYPES["apply"],
                query={"fieldManager": [manager], **extra},
            )
