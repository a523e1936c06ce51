"""Dual licenses stay dual: a Stack v2 row listing GPL-3.0-or-later and MIT that its curators call
permissive is code offered under MIT OR GPL-3.0-or-later, and the default policy does not deny it."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.backends import open_index, open_writer
from indexer.records import Document
from indexer.sources import open_source
from search_api.engine.searcher import Searcher
from search_api.gate.decision import decide
from search_api.gate.policy import Action, Outcome
from search_api.gate.policy_file import default_policy

INFLATE = """function inflateChunks(input, options) {
  var inflator = new Inflate(options);
  inflator.push(input, true);
  if (inflator.err) {
    throw inflator.msg || msg[inflator.err];
  }
  var chunks = [];
  for (var i = 0; i < inflator.chunks.length; i++) {
    chunks.push(inflator.chunks[i].subarray(0, inflator.avail_out_at[i]));
  }
  return flattenChunks(chunks, inflator.strm.total_out);
}
"""


def test_a_permissive_row_listing_gpl_and_mit_is_reported_as_or_and_passes(tmp_path: Path) -> None:
    row = {  # The Stack v2's columns, with the content an export adds
        "blob_id": "5" * 40,
        "repo_name": "stuk/jszip",
        "path": "/lib/flate.js",
        "language": "JavaScript",
        "detected_licenses": ["GPL-3.0-or-later", "MIT"],
        "license_type": "permissive",
        "revision_id": "a" * 40,
        "content": INFLATE,
    }
    (tmp_path / "the-stack-v2.jsonl").write_text(json.dumps(row) + "\n")
    docs = [d for d in open_source(str(tmp_path / "the-stack-v2.jsonl")) if isinstance(d, Document)]
    assert (
        docs[0].provenance.license_basis is not None and "may be chosen" in docs[0].provenance.license_basis
    )
    open_writer(tmp_path / "idx").build(docs)

    report = Searcher(open_index(tmp_path / "idx")).attribute(INFLATE, "JavaScript")
    source = report.matches[0].source
    assert (source.license, source.license_category) == ("MIT OR GPL-3.0-or-later", "permissive")
    assert source.license_basis is not None and "so MIT may be chosen" in source.license_basis
    assert list(report.licenses) == ["MIT OR GPL-3.0-or-later"]

    decision = decide(report, default_policy())
    assert decision.outcome is Outcome.ATTRIBUTION_NEEDED and decision.passed
    assert [f.action for f in decision.findings] == [Action.ATTRIBUTE]
    assert "the most permissive alternative" in decision.findings[0].reason
    # The reading this replaces — both licenses at once — is what the default policy denies.
    assert default_policy().license_action("GPL-3.0-or-later AND MIT")[0] is Action.DENY
