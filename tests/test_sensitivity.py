"""Each selector property fails against the fault that ignores its selector.

``test_faults_caught`` shows that *some* property naming a fault's rules catches it. This
is the narrower promise of issue 14: a list or deletecollection property whose population
held only matching objects would pass against a server that ignores the selector, so
each selector property is run alone, at the default budget, against each fault that
ignores (part of) its selector, and must fail. The same check is made for the focused
properties: each catches, on its own, the fault it is aimed at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forkruns import ForkRuns, fork_runs, under_xdist

from conformance.properties.catalog import property_rules
from conformance.targets.fake.faults import FAULTS

CASES: list[tuple[str, str]] = [
    # selectors (issue 14, item 3)
    ("ignore-field-selector", "test_field_selectors_on_name_and_signer"),
    ("field-selector-not-equal-ignored", "test_field_selectors_on_name_and_signer"),
    (
        "list-ignores-label-selector",
        "test_list_is_a_sorted_envelope_of_exactly_the_matching_objects",
    ),
    ("list-ignores-label-selector", "test_field_selectors_on_name_and_signer"),
    ("list-ignores-label-selector", "test_label_selectors_select_exactly_the_matching_objects"),
    ("label-notin-as-in", "test_label_selectors_select_exactly_the_matching_objects"),
    (
        "deletecollection-ignores-selector",
        "test_deletecollection_deletes_exactly_the_selected_objects",
    ),
    # focused properties (items 1 and 2), each against the fault it is aimed at
    ("reject-ed25519-requests", "test_requests_of_every_key_family_and_subject_are_accepted"),
    (
        "kubernetes-io-signers-restricted",
        "test_unreserved_kubernetes_io_signer_names_are_ordinary_names",
    ),
    ("expiration-capped", "test_expiration_seconds_has_no_maximum"),
    ("usages-sorted", "test_usage_order_is_kept"),
    ("creation-timestamp-writable", "test_immutable_metadata_is_kept_or_refused"),
    ("finalizers-added-while-deleting", "test_no_finalizer_is_added_while_deleting"),
    ("apply-ignores-conflicts", "test_apply_conflicts_between_managers_unless_forced"),
    (
        "patch-field-validation-ignored",
        "test_unknown_and_duplicate_fields_in_patches_follow_field_validation",
    ),
    ("update-options-unchecked", "test_invalid_update_and_patch_options_are_422"),
    ("put-apiversion-unchecked", "test_put_bodies_are_decoded_like_create_bodies"),
    ("dryrun-update-persists", "test_dry_run_updates_answer_like_real_ones_and_store_nothing"),
    (
        "certificate-requires-approval",
        "test_a_certificate_need_not_match_the_request_or_an_approval",
    ),
    (
        "main-accepts-status-changes",
        "test_main_resource_drops_status_changes_that_status_would_accept",
    ),
    ("status-via-main", "test_main_resource_drops_status_changes_that_status_would_accept"),
    ("update-conditions-unvalidated", "test_condition_validation_on_update"),
    ("status-can-approve", "test_status_cannot_add_edit_or_remove_approval_decisions"),
    ("approval-ignores-metadata", "test_metadata_changes_through_every_endpoint"),
]


def test_cases_name_real_faults_and_properties() -> None:
    """A renamed fault or property must not silently drop a case."""
    props = property_rules()
    for fault, prop in CASES:
        assert fault in FAULTS, fault
        assert prop in props, prop
        assert set(FAULTS[fault].rules) & set(props[prop]), (fault, prop)


def _name(fault: str, prop: str) -> str:
    return f"{fault}--{prop}"


def _run_args(fault: str, prop: str) -> list[str]:
    return ["run", "--fault", fault, "--shrink-seconds", "0", "-k", prop]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkRuns]:
    """Every case queued at once on one fork server (tests/forkruns.py); each test waits
    for its own. Under xdist each test queues only its own."""
    with fork_runs(tmp_path_factory.mktemp("sensitivity-runs")) as server:
        if not under_xdist():
            server.queue({_name(f, p): _run_args(f, p) for f, p in CASES})
        yield server


@pytest.mark.parametrize(("fault", "prop"), CASES, ids=[f"{f}-{p}" for f, p in CASES])
def test_property_alone_catches_its_fault(fault: str, prop: str, runs: ForkRuns) -> None:
    name = _name(fault, prop)
    code, output = runs.wait(name, _run_args(fault, prop))
    assert code == 1, f"{prop} did not catch {fault} (exit {code}):\n{output[-4000:]}"
    cases = runs.results(name)["cases"]
    assert isinstance(cases, list)
    failed = [c["name"] for c in cases if c["outcome"] == "failed"]
    assert any(prop in name for name in failed), failed
