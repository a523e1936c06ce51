"""The Elasticsearch backend (extra ``es``): the same index as the embedded one, on a cluster.

    from indexer.backends import open_index, open_writer
    open_writer("es+http://localhost:9200/corpus").build(open_source("corpus/"))
    index = open_index("es+http://localhost:9200/corpus")    # an ElasticIndex

Reading: `indexer.backends.elastic.reader`; writing (build, add, remove by repo, bulk, alias swap):
`indexer.backends.elastic.writer`; layout and settings: `indexer.backends.elastic.schema`. Tested
against an OpenSearch-API emulator (osmem-server), not against Elasticsearch itself.
"""

from __future__ import annotations

from indexer.backends.elastic.connection import ElasticBackendError, ElasticURI
from indexer.backends.elastic.reader import ElasticIndex
from indexer.backends.elastic.schema import ElasticSettings
from indexer.backends.elastic.writer import ElasticWriter

__all__ = ["ElasticBackendError", "ElasticIndex", "ElasticSettings", "ElasticURI", "ElasticWriter"]
