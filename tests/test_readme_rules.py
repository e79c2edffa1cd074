"""The README's rules × properties table is the one the CLI generates (no stale copy)."""

from __future__ import annotations

from pathlib import Path

from conformance.cli import rules_markdown

README = Path(__file__).parents[1] / "README.md"


def test_readme_rules_table_matches_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
    assert begin in text and end in text
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    assert shown == rules_markdown(), (
        "README's rules table is stale: regenerate it with `csr-conformance rules --markdown`"
    )


def test_every_rule_is_checked_by_a_property() -> None:
    assert "**not checked**" not in rules_markdown()


def test_readme_rules_by_version_table_matches_the_oracle() -> None:
    from conformance.cli import versions_markdown

    text = README.read_text(encoding="utf-8")
    begin, end = "<!-- versions:begin -->\n", "<!-- versions:end -->"
    assert begin in text and end in text
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    assert shown == versions_markdown(), (
        "README's rules-by-version table is stale: regenerate it with "
        "`csr-conformance rules --versions --markdown`"
    )
