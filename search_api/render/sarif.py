"""A scan as SARIF 2.1.0 that GitHub code scanning accepts.

One run, tool ``codecite`` with one rule per decision kind (`Action.rule_id`, plus
``common-boilerplate``); one result per finding that asks for something (allowed matches are
left out). Each result points at the scanned file's lines (1-based; `endColumn` is the column
after the last character), says in its message which upstream repo, path, lines and license
matched and what to do, and carries the same facts in `properties` for other consumers.
`partialFingerprints.primaryLocationLineHash` hashes the rule, the file, the upstream blob and the
matched text with whitespace removed, so alerts survive lines moving (SARIF Appendix B: no line
numbers in fingerprints); ``:n`` numbers repeats within one file.

Every file not scanned is a ``toolExecutionNotification`` of the invocation (level error, warning
or note, as the policy's ``[skipped]`` table decides), and one that fails or warns is also a
result of rule ``file-not-scanned``, so code scanning shows it where the findings are.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import Any

from indexer.records import Skip, SkipReason
from search_api.gate.decision import NOTICE_RULE_ID, Finding, NoticeFinding
from search_api.gate.policy import BOILERPLATE_RULE_ID, Action
from search_api.gate.scan import FileResult, ScanResult
from search_api.gate.skips import SkipAction

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = (
    "https://pypi.org/project/codecite/"  # the distribution's page; no forge URL is published yet
)
NOT_SCANNED_RULE_ID = "file-not-scanned"

_RULES: list[dict[str, Any]] = [
    {
        "action": Action.DENY,
        "name": "LicenseDenied",
        "short": "Code matches a training-corpus source under a license the policy denies",
        "full": "These lines match an indexed source file whose license the policy denies (by default copyleft, "
        "source-available and commercial licenses). Shipping them may put the work under that license.",
        "help": "Remove or rewrite the matched lines, or obtain the code under a license your policy allows. "
        "If the match is your own code, add its repository to [ignore] repos in the policy.",
    },
    {
        "action": Action.REVIEW,
        "name": "LicenseReview",
        "short": "Code matches a training-corpus source whose license needs a review",
        "full": "These lines match an indexed source file whose license could not be identified or has terms that "
        "need reading (no license, unknown or unstated license, restricted free licenses).",
        "help": "Have a person check the upstream license before the code ships; record the outcome in the policy "
        "([licenses] or [ignore] repos).",
    },
    {
        "action": Action.WARN,
        "name": "AttributionRequiredWeakCopyleft",
        "short": "Code matches a weak-copyleft source: attribution and license terms apply",
        "full": "These lines match an indexed source file under a weak-copyleft license (LGPL, MPL, EPL). Credit "
        "the source, and keep the lines under that license: changes to them may have to be shared.",
        "help": "Run `codecite notice` to write the THIRD_PARTY_NOTICES entry and keep the matched code in "
        "separate files under its license.",
    },
    {
        "action": Action.ATTRIBUTE,
        "name": "AttributionRequired",
        "short": "Code matches a permissively licensed source that must be credited",
        "full": "These lines match an indexed source file under a permissive or public-domain license. The license "
        "lets you use the code if you keep its copyright and license notice.",
        "help": "Run `codecite notice` to write the THIRD_PARTY_NOTICES entry (repo, path, license, URL, "
        "copyright lines) and ship it with your code.",
    },
    {
        "action": None,
        "rule_id": NOT_SCANNED_RULE_ID,
        "level": "error",
        "name": "FileNotScanned",
        "short": "A file was not scanned, and the policy does not let that pass",
        "full": "The gate could not scan this file (too large, unreadable, refused by the index or server, or "
        "a special file). A gate never passes what it did not scan: the policy's [skipped] table says "
        "whether such a file fails the check or warns.",
        "help": "Make the file scannable (raise --max-file-bytes, fix its permissions, retry the server), "
        'leave it out (--exclude, [ignore] paths), or set [skipped] in the policy (e.g. too-large = "warn").',
    },
    {
        "action": None,
        "name": "CommonBoilerplate",
        "short": "Code matches a span found in many repositories (common boilerplate)",
        "full": "These lines match a span that the index holds in many repositories, so it is unlikely to carry a "
        "single author's copyright. Reported for information only.",
        "help": 'Nothing to do; set [boilerplate] action = "ignore" in the policy to hide these.',
    },
    {
        "action": None,
        "rule_id": NOTICE_RULE_ID,
        "level": "warning",
        "name": "LicenseNotice",
        "short": "The code carries a license notice of a license the policy denies",
        "full": "These lines are license text (or an SPDX tag) naming a license the policy does not allow, e.g. a "
        "GPL header in generated code: the code around it may have come from a source under that license.",
        "help": "Find out where the code came from. Remove it with its notice, or record the decision in the "
        'policy ([licenses], or [notices] action = "ignore").',
    },
]


def to_sarif(result: ScanResult, tool_version: str, category: str = "codecite") -> dict[str, Any]:
    """The SARIF log for `result`; `category` becomes ``automationDetails.id`` (``category/``)."""
    rules = [_rule(r) for r in _RULES]
    index_of = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for file in result.files:
        seen: dict[str, int] = {}
        lines = file.text.split("\n")
        for finding in file.decision.findings:
            if finding.action is Action.ALLOW and not finding.boilerplate:
                continue
            results.append(_result(file, lines, finding, index_of[finding.rule_id], seen))
        for noticed in file.decision.notice_findings:
            results.append(_notice_result(file, lines, noticed, index_of[noticed.rule_id]))
    for skip in result.skipped:
        action = result.skip_action(skip)
        if action is not SkipAction.IGNORE:
            results.append(_skip_result(skip, action, index_of[NOT_SCANNED_RULE_ID]))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "codecite",
                        "version": tool_version,
                        "semanticVersion": tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                        "notifications": _NOTIFICATIONS,
                    }
                },
                "automationDetails": {"id": f"{category.strip('/')}/"},
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": result.exit_code,
                        "toolExecutionNotifications": [_notification(result, s) for s in result.skipped],
                        "properties": {"outcome": result.outcome.value, "summary": result.summary()},
                    }
                ],
                "results": results,
                "properties": {"index": result.index, "policy": result.policy.name},
            }
        ],
    }


_NOTIFICATIONS = [
    {"id": f"skipped/{reason.value}", "shortDescription": {"text": f"File not scanned: {reason.explanation}"}}
    for reason in SkipReason
]
_NOTIFICATION_INDEX = {reason: i for i, reason in enumerate(SkipReason)}


def _notification(result: ScanResult, skip: Skip) -> dict[str, Any]:
    """A file not scanned, as a tool execution notification at the level its skip action has."""
    action = result.skip_action(skip)
    return {
        "level": action.level,
        "message": {"text": _skip_message(skip, action)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(skip.where)}}}],
        "descriptor": {"id": f"skipped/{skip.reason.value}", "index": _NOTIFICATION_INDEX[skip.reason]},
        "properties": {"reason": skip.reason.value, "action": action.value, "detail": skip.detail},
    }


def _skip_message(skip: Skip, action: SkipAction) -> str:
    detail = f" ({skip.detail})" if skip.detail else ""
    verdict = {
        SkipAction.FAIL: "The policy fails the check for it ([skipped] in the policy).",
        SkipAction.WARN: "The policy warns about it ([skipped] in the policy).",
        SkipAction.IGNORE: "Listed only.",
    }[action]
    return f"{skip.where} was not scanned: {skip.reason.value}, {skip.reason.explanation}{detail}. {verdict}"


def _skip_result(skip: Skip, action: SkipAction, rule_index: int) -> dict[str, Any]:
    key = f"{NOT_SCANNED_RULE_ID}\0{skip.where}\0{skip.reason.value}"
    return {
        "ruleId": NOT_SCANNED_RULE_ID,
        "ruleIndex": rule_index,
        "level": action.level,
        "message": {"text": _skip_message(skip, action)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(skip.where)}}}],
        "partialFingerprints": {
            "primaryLocationLineHash": hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
            + ":1"
        },
        "properties": {"reason": skip.reason.value, "action": action.value, "detail": skip.detail},
    }


def _uri(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _rule(spec: dict[str, Any]) -> dict[str, Any]:
    action: Action | None = spec["action"]
    rule_id = action.rule_id if action else spec.get("rule_id", BOILERPLATE_RULE_ID)
    level = action.level if action else spec.get("level", "note")
    return {
        "id": rule_id,
        "name": spec["name"],
        "shortDescription": {"text": spec["short"]},
        "fullDescription": {"text": spec["full"]},
        "help": {"text": spec["help"], "markdown": spec["help"]},
        "defaultConfiguration": {"level": level},
        "properties": {
            "tags": ["license", "attribution", "training-data"],
            "precision": "high",
            "problem.severity": {"error": "error", "warning": "warning"}.get(level, "recommendation"),
        },
    }


def _result(
    file: FileResult, lines: list[str], f: Finding, rule_index: int, seen: dict[str, int]
) -> dict[str, Any]:
    m, src = f.match, f.governing
    q = m.query_span
    s = f.governing_span
    upstream = f"{src.repo}:{src.path}" + (f" lines {s.start_line}-{s.end_line}" if s else "")
    message = (
        f"Lines {q.start_line}-{q.end_line} match {upstream} ({src.license or 'no license'}, "
        f"{src.license_category}; {m.method} match, {m.similarity:.0%} similar, {m.matched_chars} characters, "
        f"confidence {m.confidence:.2f}, found in {m.repos_with_span} repositor{'ies' if m.repos_with_span != 1 else 'y'}). "
        f"Policy: {f.action.value} ({f.reason}). To do: {f.what_to_do}."
    )
    if src.url:
        message += f" Source: {src.url}"
    fingerprint = _fingerprint(f.rule_id, file.path, lines, f)
    seen[fingerprint] = seen.get(fingerprint, 0) + 1
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": f.level,
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(file.path)},
                    "region": _region(lines, q.start_line, q.end_line),
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": f"{fingerprint}:{seen[fingerprint]}"},
        "properties": {
            "action": f.action.value,
            "reason": f.reason,
            "license": src.license,
            "licenseCategory": src.license_category,
            "upstream": {
                "repo": src.repo,
                "path": src.path,
                "url": src.url,
                "blobId": src.blob_id,
                "lines": [s.start_line, s.end_line] if s else None,
            },
            "method": m.method,
            "similarity": round(m.similarity, 4),
            "matchedChars": m.matched_chars,
            "confidence": round(m.confidence, 3),
            "reposWithSpan": m.repos_with_span,
            "copies": len(m.copies),
        },
    }


def _notice_result(file: FileResult, lines: list[str], f: NoticeFinding, rule_index: int) -> dict[str, Any]:
    n, q = f.notice, f.notice.query_span
    text = "".join("".join(line.split()) for line in lines[q.start_line - 1 : q.end_line])
    digest = hashlib.sha256(f"{f.rule_id}\0{file.path}\0{n.license}\0{text}".encode("utf-8", "surrogatepass"))
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": f.level,
        "message": {
            "text": f"Lines {q.start_line}-{q.end_line} are a {n.kind.value} notice of {n.license} "
            f"({n.license_category}). Policy: {f.action.value} ({f.reason}). To do: {f.what_to_do}."
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": urllib.parse.quote(file.path, safe="/")},
                    "region": _region(lines, q.start_line, q.end_line),
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": digest.hexdigest()[:16]},
        "properties": {
            "action": f.action.value,
            "reason": f.reason,
            "license": n.license,
            "licenseCategory": n.license_category,
            "noticeKind": n.kind.value,
        },
    }


def _region(lines: list[str], start: int, end: int) -> dict[str, int]:
    last = lines[end - 1].rstrip("\r") if 0 < end <= len(lines) else ""
    return {"startLine": start, "startColumn": 1, "endLine": end, "endColumn": len(last) + 1}


def _fingerprint(rule_id: str, path: str, lines: list[str], f: Finding) -> str:
    span = lines[f.match.query_span.start_line - 1 : f.match.query_span.end_line]
    snippet = "".join("".join(line.split()) for line in span)
    key = f"{rule_id}\0{path}\0{f.governing.blob_id}\0{snippet}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]
