"""Policy: defaults, SPDX expressions, overrides, copies, boilerplate, and validation that names the line."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.licenses.expressions import license_category
from indexer.records import NoticeKind
from search_api.engine.results import Copy, Match, Method, Notice, Relation, Report, SourceRef, Span
from search_api.gate.decision import decide
from search_api.gate.policy import Action, Outcome
from search_api.gate.policy_file import PolicyError, default_policy, default_policy_text, load_policy


def ref(license_expr: str | None, repo: str = "acme/lib", path: str = "src/x.py") -> SourceRef:
    return SourceRef(
        "b" * 40,
        repo,
        path,
        license_expr,
        license_category(license_expr).value,
        f"https://github.com/{repo}/blob/main/{path}",
        "Python",
    )


def match(
    license_expr: str | None,
    *,
    lines: tuple[int, int] = (1, 10),
    chars: int = 300,
    repos: int = 1,
    copies: tuple[str | None, ...] = (),
    similarity: float = 1.0,
    repo: str = "acme/lib",
    confidence: float = 1.0,
) -> Match:
    return Match(
        Span(*lines),
        ref(license_expr, repo),
        Span(20, 29),
        similarity,
        Method.EXACT,
        80,
        chars,
        repos,
        tuple(Copy(ref(c, f"copy/{i}"), Relation.IDENTICAL) for i, c in enumerate(copies)),
        confidence=confidence,
    )


def report(*matches: Match, notices: tuple[Notice, ...] = ()) -> Report:
    return Report(40, 300, 1200, "Python", tuple(matches), "test/gen-1", 2, notices=notices)


@pytest.mark.parametrize(
    ("expression", "action"),
    [
        ("MIT", Action.ATTRIBUTE),
        ("Apache-2.0", Action.ATTRIBUTE),
        ("CC0-1.0", Action.ATTRIBUTE),
        ("LGPL-2.1-or-later", Action.WARN),
        ("MPL-2.0", Action.WARN),
        ("GPL-3.0-only", Action.DENY),
        ("AGPL-3.0-or-later", Action.DENY),
        ("SSPL-1.0", Action.DENY),
        (None, Action.REVIEW),
        ("LicenseRef-acme-internal", Action.REVIEW),
        ("MIT OR GPL-3.0-only", Action.ATTRIBUTE),  # OR: the most permissive alternative
        ("GPL-2.0-only OR LGPL-2.1-only", Action.WARN),
        ("MIT AND GPL-2.0-or-later", Action.DENY),  # AND: every part, so the strictest
        ("Apache-2.0 AND LGPL-3.0-or-later", Action.WARN),
        ("MIT OR (Apache-2.0 AND GPL-2.0-only)", Action.ATTRIBUTE),
        (
            "GPL-2.0-only WITH Classpath-exception-2.0",
            Action.DENY,
        ),  # the license decides unless the pair is listed
    ],
)
def test_default_policy_decides_spdx_expressions(expression: str | None, action: Action) -> None:
    assert default_policy().license_action(expression)[0] is action


def test_reasons_name_the_policy_key_that_decided() -> None:
    policy = default_policy()
    assert (
        policy.license_action("GPL-3.0-only")[1] == 'GPL-3.0-only is copyleft: [categories] copyleft = "deny"'
    )
    assert "most permissive alternative" in policy.license_action("MIT OR GPL-3.0-only")[1]
    assert "no-license" in policy.license_action(None)[1]


def test_license_overrides_win_over_categories_and_exceptions_are_looked_up_as_pairs() -> None:
    policy = load_policy(
        {
            "licenses": {
                "gpl-2.0+": "warn",
                "GPL-2.0-only WITH Classpath-exception-2.0": "attribute",
                "cc0-1.0": "allow",
            }
        }
    )
    assert policy.license_action("GPL-2.0-or-later") == (
        Action.WARN,
        '[licenses] "GPL-2.0-or-later" = "warn"',
    )
    assert policy.license_action("GPL-2.0-only WITH Classpath-exception-2.0")[0] is Action.ATTRIBUTE
    assert policy.license_action("GPL-2.0-only")[0] is Action.DENY
    assert policy.license_action("CC0-1.0")[0] is Action.ALLOW


def test_decide_gives_one_finding_per_match_and_the_worst_outcome() -> None:
    decision = decide(report(match("MIT"), match("GPL-3.0-only", lines=(12, 30))), default_policy())
    assert decision.outcome is Outcome.FAIL and not decision.passed
    assert [f.action for f in decision.findings] == [Action.ATTRIBUTE, Action.DENY]
    assert [f.match_index for f in decision.failing] == [1]
    assert [f.governing.license for f in decision.attributions] == ["MIT"]
    as_json = decision.to_dict()
    assert as_json["outcome"] == "fail" and as_json["counts"] == {"attribute": 1, "deny": 1}
    assert as_json["findings"][1]["rule_id"] == "license-denied"
    assert "remove or rewrite lines 12-30" in as_json["findings"][1]["what_to_do"]
    assert as_json["notice"].startswith("acme/lib: src/x.py (lines 20-29), licensed under MIT")
    json.dumps(as_json)


@pytest.mark.parametrize(
    ("licenses", "outcome"),
    [
        ((), Outcome.PASS),
        (("MIT",), Outcome.ATTRIBUTION_NEEDED),
        (("LGPL-3.0-only",), Outcome.ATTRIBUTION_NEEDED),
        ((None,), Outcome.REVIEW_NEEDED),
        (("MIT", None), Outcome.REVIEW_NEEDED),
        (("MIT", "AGPL-3.0-only"), Outcome.FAIL),
    ],
)
def test_outcomes(licenses: tuple[str | None, ...], outcome: Outcome) -> None:
    assert decide(report(*(match(x) for x in licenses)), default_policy()).outcome is outcome


def test_fail_on_review_makes_unknown_licenses_fail() -> None:
    strict = load_policy({"fail_on": ["deny", "review"]})
    assert decide(report(match(None)), strict).outcome is Outcome.FAIL
    assert decide(report(match(None)), default_policy()).outcome is Outcome.REVIEW_NEEDED


def test_copies_mode_picks_the_license_that_governs() -> None:
    m = match("GPL-3.0-only", copies=("MIT",))
    best = decide(report(m), default_policy()).findings[0]
    assert best.action is Action.ATTRIBUTE and best.governing.repo == "copy/0"
    assert best.governing_span == Span(20, 29)  # an identical copy: the same lines
    assert "best of 2 files" in best.reason
    primary = decide(report(m), load_policy({"matches": {"copies": "primary"}})).findings[0]
    assert primary.action is Action.DENY and primary.governing.repo == "acme/lib"
    strictest = decide(
        report(match("MIT", copies=("GPL-3.0-only",))), load_policy({"matches": {"copies": "strictest"}})
    )
    assert strictest.findings[0].action is Action.DENY


def test_boilerplate_is_ignored_reported_or_enforced() -> None:
    common = match("GPL-3.0-only", repos=40)
    ignored = decide(report(common), default_policy())
    assert (
        ignored.findings == () and ignored.ignored == {"boilerplate": 1} and ignored.outcome is Outcome.PASS
    )
    noted = decide(report(common), load_policy({"boilerplate": {"action": "report"}}))
    assert noted.findings[0].boilerplate and noted.findings[0].rule_id == "common-boilerplate"
    assert noted.outcome is Outcome.PASS and noted.attributions == ()
    enforced = decide(report(common), load_policy({"boilerplate": {"action": "enforce"}}))
    assert enforced.outcome is Outcome.FAIL
    higher = decide(report(common), load_policy({"boilerplate": {"min_repos": 50}}))
    assert higher.outcome is Outcome.FAIL


def test_small_matches_and_ignored_sources_are_dropped_with_a_reason() -> None:
    policy = load_policy(
        {
            "matches": {"min_chars": 200, "min_lines": 5, "min_similarity": 0.8},
            "ignore": {"repos": ["my-org/*"]},
        }
    )
    decision = decide(
        report(
            match("GPL-3.0-only", chars=120),
            match("GPL-3.0-only", lines=(3, 4)),
            match("GPL-3.0-only", similarity=0.5),
            match("GPL-3.0-only", repo="my-org/app"),
            match("GPL-3.0-only", repo="my-org/app", copies=("MIT",)),
        ),
        policy,
    )
    assert decision.ignored == {"below-minimum": 3, "ignored-source": 1}
    assert [(f.action, f.governing.repo) for f in decision.findings] == [(Action.ATTRIBUTE, "copy/0")]


def test_matches_below_the_policy_confidence_are_dropped_with_a_reason() -> None:
    unsure, sure = match("GPL-3.0-only", confidence=0.7), match("GPL-3.0-only", confidence=0.95)
    default = decide(report(unsure, sure), default_policy())
    assert default.ignored == {"low-confidence": 1} and default.outcome is Outcome.FAIL
    assert [f.match.confidence for f in default.findings] == [0.95]
    only_unsure = decide(report(unsure), default_policy())
    assert only_unsure.outcome is Outcome.PASS and only_unsure.findings == ()
    everything = decide(report(unsure), load_policy({"matches": {"min_confidence": 0.0}}))
    assert everything.outcome is Outcome.FAIL


def gpl_notice(line: int = 1) -> Notice:
    return Notice(Span(line, line + 12), NoticeKind.LICENSE, "GPL-3.0-or-later", "copyleft", 0.98)


def test_a_denied_license_notice_is_flagged_for_review_decided_or_only_listed() -> None:
    notice, mit = gpl_notice(), Notice(Span(1, 3), NoticeKind.SPDX_TAG, "MIT", "permissive")
    reviewed = decide(report(notices=(notice, mit)), default_policy())
    assert reviewed.outcome is Outcome.REVIEW_NEEDED and reviewed.passed
    assert [(n.notice.license, n.action, n.rule_id) for n in reviewed.notice_findings] == [
        ("GPL-3.0-or-later", Action.REVIEW, "license-notice")
    ]
    assert "GPL-3.0-or-later notice" in reviewed.notice_findings[0].what_to_do
    assert reviewed.to_dict()["counts"] == {"license-notice": 1}
    decided = decide(report(notices=(notice, mit)), load_policy({"notices": {"action": "decide"}}))
    assert decided.outcome is Outcome.FAIL
    assert [n.action for n in decided.notice_findings] == [Action.DENY, Action.ATTRIBUTE]
    listed = decide(report(notices=(notice,)), load_policy({"notices": {"action": "ignore"}}))
    assert listed.outcome is Outcome.PASS and listed.notice_findings == ()
    strict = decide(report(notices=(notice,)), load_policy({"fail_on": ["deny", "review"]}))
    assert strict.outcome is Outcome.FAIL


def test_the_shipped_default_is_commented_toml_and_round_trips(tmp_path: Path) -> None:
    text = default_policy_text()
    assert text.count("\n#") > 20  # it explains itself
    written = tmp_path / "policy.toml"
    written.write_text(text)
    assert load_policy(written).to_dict() == default_policy().to_dict()
    assert tomllib.loads(text)["categories"]["copyleft"] == "deny"
    assert load_policy(default_policy().to_dict()).to_dict() == default_policy().to_dict()


def test_a_policy_file_sets_only_what_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[categories]\nweak-copyleft = "deny"\n\n[ignore]\npaths = ["vendor/**"]\n')
    policy = load_policy(path)
    assert policy.categories[license_category("MPL-2.0")] is Action.DENY
    assert policy.license_action("MIT")[0] is Action.ATTRIBUTE
    assert policy.ignore_paths == ("vendor/**",) and policy.name == str(path)


def problems(tmp_path: Path, text: str, name: str = "policy.toml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    return str(err.value).replace(str(path), name).splitlines()


def test_validation_names_the_line_of_every_problem(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """# a policy
fail_on = ["deny", "explode"]

[categories]
copyleft = "forbid"
permisive = "allow"

[licenses]
"Foo-Bar-9" = "deny"

[matches]
min_chars = -3
copies = "some"

[boilerplate]
min_repo = 3

[extra]
""",
    )
    assert (
        "policy.toml:2: fail_on = 'explode': unknown action; use one of: allow, attribute, warn, review, deny"
        in found
    )
    assert any(p.startswith("policy.toml:5: categories.copyleft = 'forbid': unknown action") for p in found)
    assert any(
        p.startswith("policy.toml:6: unknown license category 'permisive'; did you mean 'permissive'?")
        for p in found
    )
    assert any(p.startswith("policy.toml:9: 'Foo-Bar-9' is not a known SPDX license id") for p in found)
    assert "policy.toml:12: matches.min_chars = -3: must be a whole number at least 0" in found
    assert "policy.toml:13: matches.copies = 'some': use one of: best, primary, strictest" in found
    assert "policy.toml:16: unknown setting boilerplate.min_repo; use one of: min_repos, action" in found
    assert any(p.startswith("policy.toml:18: unknown setting 'extra'") for p in found)


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert problems(tmp_path, '[categories]\ncopyleft = "deny"\npermissive = allow\n') == [
        "policy.toml:3: invalid TOML: Invalid value (column 14)"
    ]


def test_json_policies_name_the_line_too(tmp_path: Path) -> None:
    found = problems(tmp_path, '{\n "categories": {\n  "copyleft": "nope"\n }\n}\n', "policy.json")
    assert found == [
        (
            "policy.json:3: categories.copyleft = 'nope': unknown action; use one of: "
            "allow, attribute, warn, review, deny"
        )
    ]


def test_dict_policies_are_validated_as_well() -> None:
    with pytest.raises(PolicyError, match=r"policy: boilerplate\.action = 'sometimes'"):
        load_policy({"boilerplate": {"action": "sometimes"}})
    with pytest.raises(PolicyError, match=r"matches\.min_similarity = 2: must be a number between 0"):
        load_policy({"matches": {"min_similarity": 2}})
    with pytest.raises(PolicyError, match=r"matches\.min_similarity = nan"):
        load_policy({"matches": {"min_similarity": float("nan")}})
    with pytest.raises(PolicyError, match=r"ignore\.paths: '!' is not a gitignore-style pattern"):
        load_policy({"ignore": {"paths": ["vendor/", "!"]}})
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy("/nonexistent/policy.toml")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
policy_like = st.dictionaries(
    st.sampled_from(
        ["version", "fail_on", "categories", "licenses", "matches", "boilerplate", "ignore", "other"]
    ),
    json_values
    | st.dictionaries(
        st.sampled_from(["copyleft", "MIT", "min_chars", "copies", "action", "paths", "x"]),
        json_values,
        max_size=3,
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(policy_like)
def test_any_json_object_is_a_policy_or_a_policy_error(raw: dict) -> None:
    """What the web API passes on from a request: never anything but PolicyError (a 422)."""
    try:
        policy = load_policy(raw)
    except PolicyError as err:
        assert str(err).startswith("policy")
        return
    assert decide(report(match("MIT")), policy).outcome in set(Outcome)
