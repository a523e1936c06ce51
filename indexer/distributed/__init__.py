"""Building an index on many machines: Ray spreads input shards over workers.

    plan shards ─► fingerprint each shard (workers) ─► shuffle content hashes and LSH band keys
    ─► reducers group copies ─► replay clustering in input order (driver, light data only)
    ─► each worker writes the segments of its shard ─► commit one generation

The result is the index a single-process build of the same input writes, up to where documents
fall into segments: the same global ids, clusters and postings, so every query gets the same
Report (a test pins this). Ray is the optional extra ``ray``; `indexer.distributed.ray_build`
imports it when a build asks for it.
"""
