"""The Elasticsearch backend (extra ``es``): the same index as the embedded one, on a cluster.

    from indexer.elastic import ElasticIndex, build_elastic
    build_elastic(open_source("corpus/"), "es+http://localhost:9200/corpus")
    index = open_index("es+http://localhost:9200/corpus")    # an ElasticIndex

Reading: `indexer.elastic.reader`; writing (build, add, remove by repo, bulk, alias swap):
`indexer.elastic.writer`; layout and settings: `indexer.elastic.schema`. Tested against an
OpenSearch-API emulator (osmem-server), not against Elasticsearch itself.
"""

from __future__ import annotations

from indexer.elastic.connection import ElasticBackendError, ElasticURI
from indexer.elastic.reader import ElasticIndex
from indexer.elastic.schema import ElasticSettings
from indexer.elastic.writer import add_elastic, build_elastic, remove_repos_elastic

__all__ = [
    "ElasticBackendError",
    "ElasticIndex",
    "ElasticSettings",
    "ElasticURI",
    "add_elastic",
    "build_elastic",
    "remove_repos_elastic",
]
