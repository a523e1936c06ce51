"""What an add clusters new documents against: the indexed documents' content hashes, copy
clusters and representatives' MinHash signatures, read from the cluster in one scan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from elasticsearch import Elasticsearch, helpers

from indexer.analysis.minhash import lean, new_lsh
from indexer.backends.elastic.connection import ElasticURI, translate_errors
from indexer.backends.elastic.schema import BuildNames, decode_signature
from indexer.backends.manifest import Manifest


@dataclass(slots=True)
class ExistingElastic:
    """The `indexer.placement.ExistingIndex` of a served Elasticsearch build."""

    manifest: Manifest
    content_hashes: dict[str, int]
    clusters: np.ndarray  # global id -> its representative's global id
    signatures: dict[int, np.ndarray]
    lsh: object  # datasketch MinHashLSH over the representatives

    @classmethod
    def load(
        cls, es: Elasticsearch, target: ElasticURI, names: BuildNames, manifest: Manifest
    ) -> ExistingElastic:
        options = manifest.options
        total = manifest.next_doc_base
        cluster = np.arange(total, dtype=np.int64)
        hashes: dict[str, int] = {}
        signatures: dict[int, np.ndarray] = {}
        query = {"query": {"range": {"doc": {"lt": total}}}}
        with translate_errors(target, "read the indexed documents' clusters"):
            for hit in helpers.scan(
                es,
                index=names.docs,
                query=query,
                size=5000,
                source_includes=["doc", "content_hash", "cluster", "signature"],
            ):
                src = hit["_source"]
                doc = int(src["doc"])
                cluster[doc] = int(src["cluster"])
                if hashes.get(src["content_hash"], total) > doc:
                    hashes[src["content_hash"]] = doc
                if "signature" in src:
                    signatures[doc] = decode_signature(src["signature"])
        lsh = new_lsh(options)
        with lsh.insertion_session() as session:
            for doc in sorted(signatures):
                session.insert(doc, lean(signatures[doc], options))
        return cls(manifest, dict(sorted(hashes.items(), key=lambda kv: kv[1])), cluster, signatures, lsh)

    @property
    def next_doc_base(self) -> int:
        return self.manifest.next_doc_base

    def cluster_of(self, doc_id: int) -> int:
        return int(self.clusters[doc_id])

    def signature(self, doc_id: int) -> np.ndarray:
        return self.signatures[doc_id]
