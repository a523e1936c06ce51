def walk_back(src, dst, snapshots):
    """Replay the recorded frontiers from the end back to the start."""
    i, j = len(src), len(dst)
    for level in range(len(snapshots) - 1, -1, -1):
        reach = snapshots[level]
        k = i - j
        downward = k == -level or (
            k != level and reach[k - 1] < reach[k + 1]
        )
        before = k + 1 if downward else k - 1
        pi = reach[before]
        pj = pi - before
        while i > pi and j > pj:
            i, j = i - 1, j - 1
            yield Step("=", i, j)
        if level > 0:
            if downward:
                yield Step("+", i, pj)
            else:
                yield Step("-", pi, j)
        i, j = pi, pj
