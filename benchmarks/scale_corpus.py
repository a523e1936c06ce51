#!/usr/bin/env python3
"""Build a multi-GB corpus of real, licensed package code for latency-vs-corpus-size benchmarks.

    export SCALE_DATA=/work/scale-data                  # default: .scale-data
    python benchmarks/scale_corpus.py --jobs 8          # fetch + build from the pinned lists
    python benchmarks/scale_corpus.py --build-only      # rebuild shards from $SCALE_DATA/src
    python benchmarks/scale_corpus.py --make-lists --pypi-seed PYPI.tsv --npm-seed NPM.tsv

It reuses the eval kit (``--eval-kit``, default ``../shared/eval``): its ``download`` (``pip download
--no-deps`` / ``npm pack``), ``unpack``, ``metadata`` (license from package metadata) and ``keep_file``
(text, <= 1 MB, not minified), with the kit's data dirs pointed at $SCALE_DATA. Inputs are the pinned
lists beside this script, ``scale-packages-pypi.txt`` and ``scale-packages-npm.txt``, in the kit's
format (``name==version [sdist] # SPDX hint`` / ``name@version # SPDX hint``); no package of the
kit's own lists is in them, so the eval's held-out negatives stay unseen.

``--make-lists`` regenerates those lists: seed TSVs (header row; a ``name`` column and a ``rank``
column, ascending, or a ``download`` column, descending) give popularity order; each name is then
looked up once in the registry (PyPI JSON API, npm ``/latest``) for its current version, license and
size, and taken until an estimated byte budget is met. Compiled PyPI projects (platform wheels) are
pinned as ``sdist`` so that their C/C++/Cython/Rust sources come along.

Layout of $SCALE_DATA::

    dl/, src/                  downloads and unpacked packages (cached; reruns resume)
    corpus/shard-NNNNN.jsonl.gz  every non-held-out package, in tier order; eval corpus columns
    heldout/shard-NNNNN.jsonl.gz ~3% of packages (by name hash), in no tier: cut negatives here
    tiers/<T>/shard-*.jsonl.gz   symlinks: the nested subset of ~T GB (T = 0.25, 0.5, 1, 2)
    manifest.json              {"tiers": {"0.25".."2.0", "all": {shards, packages, files, bytes}},
                                "heldout": {shards, packages, bytes}, "failed": [[package, error]],
                                "packages": [{package, version, split, order, tier, cumulative_bytes,
                                  license, license_type, files, bytes, languages: {lang: bytes}, ...}]}

Packages are ordered by a hash of their name; ``cumulative_bytes`` runs along that order and a
package's ``tier`` is the smallest T with cumulative_bytes <= T * 1e9 (null beyond 2 GB: full
corpus only). Tier boundaries start new shards, so each tier is a prefix of corpus/ shards:
``codecite index build $SCALE_DATA/tiers/0.5 --keep all`` indexes the 0.5 GB subset.
Same lists and downloads -> same bytes (sorted walk, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import importlib.util
import json
import os
import platform
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
LISTS = {"pypi": HERE / "scale-packages-pypi.txt", "npm": HERE / "scale-packages-npm.txt"}
TIERS_GB = (0.25, 0.5, 1.0, 2.0)
HELDOUT_PERCENT = 3
SHARD_FILES = 5000
FAMILY_CAP = 20  # at most this many packages per name family (azure-*, @types/...)
MIN_DIST, MAX_DIST = 8_000, 30_000_000  # PyPI distribution size bounds (bytes)
MIN_TGZ, MAX_TGZ = 20_000, 25_000_000  # npm tarball size bounds (bytes)
# Rough kept-code bytes per byte of distribution, for the make-lists budget only.
EST_FACTOR = {"wheel": 1.0, "sdist": 1.5, "npm": 1.5}
PLATFORM_PKG = re.compile(r"(^|[/-])(linux|darwin|win32|windows|freebsd|android|sunos|openbsd)-")
Pkg = dict[str, Any]


def load_kit(eval_kit: Path, data: Path) -> ModuleType:
    """Import the eval kit's build_corpus.py with its data dirs pointed at `data`."""
    spec = importlib.util.spec_from_file_location("eval_build_corpus", eval_kit / "build_corpus.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no build_corpus.py in {eval_kit}")
    kit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kit)
    kit.DATA, kit.DL, kit.SRC, kit.OUT = data, data / "dl", data / "src", data / "corpus"
    return kit


def name_hash(salt: str, package: str) -> int:
    """A stable 160-bit hash of a package key, salted per use."""
    return int(hashlib.sha1(f"{salt}:{package}".encode()).hexdigest(), 16)


def is_heldout(package: str) -> bool:
    """Whether `package` (``eco:name``) is reserved for negatives (never in a tier)."""
    return name_hash("scale-heldout", package) % 100 < HELDOUT_PERCENT


def canonical(name: str) -> str:
    """PyPI's normalised project name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def eval_names(kit: ModuleType, eval_kit: Path) -> set[str]:
    """Package keys (``eco:name``, PyPI names normalised) listed by the eval kit."""
    pkgs = kit.parse_list(eval_kit / "packages-pypi.txt", "pypi") + kit.parse_list(
        eval_kit / "packages-npm.txt", "npm"
    )
    return {f"{p['eco']}:{canonical(p['name']) if p['eco'] == 'pypi' else p['name']}" for p in pkgs}


# ---------------------------------------------------------------------------------------------
# fetch + build


def prefetch_sdist(kit: ModuleType, p: Pkg) -> None:
    """Put a pinned sdist into the kit's download cache straight from PyPI (sha256-checked).

    `pip download` of an sdist runs the project's build backend just to read its metadata, which
    takes minutes for meson/CMake projects and fails without their toolchains; on any error here
    the kit's pip path still runs."""
    d = kit.DL / p["eco"] / f"{p['name']}-{p['version']}"
    if not p["sdist"] or p["eco"] != "pypi" or (d.is_dir() and any(d.iterdir())):
        return
    api = f"https://pypi.org/pypi/{urllib.parse.quote(p['name'])}/json"
    doc = http_json(api) or {}
    files = (doc.get("releases") or {}).get(p["version"], [])
    sdists = [u for u in files if u["packagetype"] == "sdist" and not u.get("yanked")]
    if not sdists:
        return
    u, target = sdists[0], d / sdists[0]["filename"]
    req = urllib.request.Request(
        urllib.parse.urljoin(api, u["url"]), headers={"User-Agent": "codecite-scale-corpus"}
    )
    with urllib.request.urlopen(req, timeout=300) as r:
        data = r.read()
    if hashlib.sha256(data).hexdigest() != u["digests"]["sha256"]:
        raise RuntimeError(f"sha256 mismatch for {u['filename']}")
    d.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    part.rename(target)


def fetch_one(kit: ModuleType, p: Pkg) -> None:
    """Download and unpack `p` (sets p['root']); a broken cached download is fetched again once."""
    try:
        prefetch_sdist(kit, p)
    except Exception as e:  # noqa: BLE001 - fall back to the kit's pip download
        print("sdist prefetch failed, using pip:", p["package"], e, file=sys.stderr, flush=True)
    d = kit.download(p)
    try:
        p["root"] = kit.unpack(p, d)
    except Exception:  # noqa: BLE001 - e.g. a download cut short by an earlier run
        for f in d.iterdir():
            f.unlink()
        p["root"] = kit.unpack(p, kit.download(p))


def fetch_all(kit: ModuleType, pkgs: list[Pkg], jobs: int) -> list[tuple[str, str]]:
    """Fetch every package concurrently; return the (package, error) failures."""
    failed: list[tuple[str, str]] = []
    start = time.monotonic()

    def fetch(p: Pkg) -> None:
        try:
            fetch_one(kit, p)
        except Exception as e:  # noqa: BLE001 - report and continue
            failed.append((p["package"], str(e)[-300:]))
            print("FAILED", p["package"], str(e)[-300:], file=sys.stderr, flush=True)

    with cf.ThreadPoolExecutor(jobs) as ex:
        for i, _ in enumerate(ex.map(fetch, pkgs), 1):
            if i % 100 == 0 or i == len(pkgs):
                print(
                    f"fetched {i}/{len(pkgs)} ({len(failed)} failed) {time.monotonic() - start:.0f}s",
                    flush=True,
                )
    return sorted(failed)


def package_rows(kit: ModuleType, p: Pkg) -> list[dict[str, Any]]:
    """The corpus rows of one unpacked package: kept source files, sorted by path."""
    rows = []
    for f in sorted(x for x in p["root"].rglob("*") if x.is_file() and not x.is_symlink()):
        lang = kit.EXT_LANG.get(f.suffix.lower())
        if not lang:
            continue
        raw = f.read_bytes()
        text = kit.keep_file(f, raw)
        if text is None:
            continue
        rows.append(
            {
                "blob_id": hashlib.sha1(raw).hexdigest(),
                "repo_name": p["repo_name"],
                "path": f.relative_to(p["root"]).as_posix(),
                "language": lang,
                "license_type": p["license_type"],
                "detected_licenses": p["detected_licenses"],
                "package": p["package"],
                "version": p["version"],
                "length_bytes": len(raw),
                "content": text,
            }
        )
    return rows


class ShardWriter:
    """gzip JSONL shards of at most SHARD_FILES rows; `cut()` makes the next row open a new one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.shards: list[str] = []
        self.rows_in_shard = 0
        self.file: IO[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def cut(self) -> None:
        if self.file:
            self.file.close()
        self.file = None

    def write(self, row: dict[str, Any]) -> str:
        """Write one row; return the shard's file name."""
        if self.file is None or self.rows_in_shard >= SHARD_FILES:
            self.cut()
            self.shards.append(f"shard-{len(self.shards):05d}.jsonl.gz")
            self.file = gzip.GzipFile(self.directory / self.shards[-1], "wb", compresslevel=6, mtime=0)
            self.rows_in_shard = 0
        self.file.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
        self.rows_in_shard += 1
        return self.shards[-1]


def tier_of(cumulative: int) -> float | None:
    """The smallest tier (GB) whose budget holds `cumulative` bytes; None past the largest."""
    return next((t for t in TIERS_GB if cumulative <= t * 1e9), None)


def manifest_entry(p: Pkg, rows: list[dict[str, Any]]) -> Pkg:
    """The manifest record of a built package (tier fields are added by the caller)."""
    langs: Counter[str] = Counter()
    for r in rows:
        langs[r["language"]] += r["length_bytes"]
    keys = ("package", "version", "repo_name", "license", "license_source", "license_type", "dist_file")
    return {k: p[k] for k in keys} | {
        "files": len(rows),
        "bytes": sum(langs.values()),
        "languages": dict(sorted(langs.items())),
    }


def write_split(
    kit: ModuleType, pkgs: list[Pkg], out: Path, tiered: bool, failed: list[tuple[str, str]]
) -> tuple[list[Pkg], dict[str, list[str]]]:
    """Write `pkgs` in order to shards under `out`; return manifest entries and shards per tier."""
    writer, entries = ShardWriter(out), []
    tier_shards: dict[str, list[str]] = defaultdict(list)
    cumulative, current = 0, "start"
    for p in pkgs:
        try:
            kit.metadata(p, p["root"])
            rows = package_rows(kit, p)
        except Exception as e:  # noqa: BLE001 - unreadable metadata or files: skip the package
            failed.append((p["package"], f"build: {e}"[:300]))
            continue
        entry = manifest_entry(p, rows)
        cumulative += entry["bytes"]
        tier = tier_of(cumulative) if tiered else None
        if tier != current:
            writer.cut()
            current = tier
        shards = {writer.write(r) for r in rows}
        tier_shards[str(tier)].extend(s for s in sorted(shards) if s not in tier_shards[str(tier)])
        entries.append(
            entry
            | {
                "split": "index" if tiered else "heldout",
                "tier": tier,
                "cumulative_bytes": cumulative if tiered else None,
            }
        )
        print(
            f"{p['package']:50s} {entry['license_type']:14s} {entry['files']:6d} "
            f"{entry['bytes'] / 1e6:8.2f} MB  cum {cumulative / 1e9:6.3f} GB",
            flush=True,
        )
    writer.cut()
    return entries, tier_shards


def tier_summary(entries: list[Pkg], tier_shards: dict[str, list[str]]) -> dict[str, Any]:
    """Per tier, nested (a tier includes the smaller ones), then 'all': shards, packages, files, bytes."""
    summary: dict[str, Any] = {}
    shards: list[str] = []
    for t in (*TIERS_GB, None):
        shards = shards + tier_shards.get(str(t), [])
        inside = [e for e in entries if t is None or (e["tier"] is not None and e["tier"] <= t)]
        summary["all" if t is None else str(t)] = {
            "shards": shards,
            "packages": len(inside),
            "files": sum(e["files"] for e in inside),
            "bytes": sum(e["bytes"] for e in inside),
        }
    return summary


def link_tiers(data: Path, tiers: dict[str, Any]) -> None:
    """tiers/<T>/ holds relative symlinks to the corpus/ shards of that nested subset."""
    for t in TIERS_GB:
        d = data / "tiers" / str(t)
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()
        for s in tiers[str(t)]["shards"]:
            (d / s).symlink_to(Path("..") / ".." / "corpus" / s)


def build(kit: ModuleType, data: Path, pkgs: list[Pkg], failed: list[tuple[str, str]]) -> dict[str, Any]:
    """Write corpus/, heldout/, tiers/ and manifest.json from the fetched packages."""
    for d in ("corpus", "heldout"):
        for old in (data / d).glob("shard-*.jsonl.gz"):
            old.unlink()
    fetched = [p for p in pkgs if "root" in p]
    index = sorted(
        (p for p in fetched if not is_heldout(p["package"])),
        key=lambda p: name_hash("scale-order", p["package"]),
    )
    held = sorted((p for p in fetched if is_heldout(p["package"])), key=lambda p: p["package"])
    entries, tier_shards = write_split(kit, index, data / "corpus", True, failed)
    for order, e in enumerate(entries):
        e["order"] = order
    held_entries, held_shards = write_split(kit, held, data / "heldout", False, failed)
    tiers = tier_summary(entries, tier_shards)
    link_tiers(data, tiers)
    manifest = {
        "tiers": tiers,
        "heldout": {
            "shards": held_shards.get("None", []),
            "packages": len(held_entries),
            "bytes": sum(e["bytes"] for e in held_entries),
        },
        "packages": entries + held_entries,
        "failed": sorted(failed),
    }
    (data / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def report(manifest: dict[str, Any]) -> None:
    """Progress-style summary of a built corpus: tiers, licenses, languages, failures."""
    pkgs = manifest["packages"]
    for name, t in manifest["tiers"].items():
        print(
            f"tier {name:5s}: {t['packages']:5d} packages {t['files']:8d} files "
            f"{t['bytes'] / 1e9:7.3f} GB {len(t['shards']):4d} shards"
        )
    print(
        f"heldout   : {manifest['heldout']['packages']:5d} packages "
        f"{manifest['heldout']['bytes'] / 1e9:7.3f} GB"
    )
    licenses, langs = Counter[str](), Counter[str]()
    for p in pkgs:
        licenses[p["license_type"]] += 1
        langs.update(p["languages"])
    print("license_type (packages):", dict(licenses.most_common()))
    print("languages (GB):", {k: round(v / 1e9, 3) for k, v in langs.most_common()})
    print(
        f"total: {len(pkgs)} packages, {sum(p['files'] for p in pkgs)} files, "
        f"{sum(p['bytes'] for p in pkgs)} bytes; {len(manifest['failed'])} failed"
    )


# ---------------------------------------------------------------------------------------------
# make-lists


def http_json(url: str) -> Any:
    """GET a JSON document (None on 404), retrying transient errors."""
    req = urllib.request.Request(
        url, headers={"User-Agent": "codecite-scale-corpus", "Accept": "application/json"}
    )
    for attempt in range(4):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            err: Exception = e
        except (urllib.error.URLError, TimeoutError, ValueError) as e:
            err = e
        time.sleep(2**attempt)
    print("lookup failed:", url, err, file=sys.stderr, flush=True)
    return None


def content_length(url: str) -> int:
    """Size of a registry file from a HEAD request (0 when unknown)."""
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "codecite-scale-corpus"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.headers.get("Content-Length") or 0)
    except (urllib.error.URLError, TimeoutError, ValueError):
        return 0


def read_seed(path: Path) -> list[str]:
    """Names from a seed TSV in popularity order (a 'rank' column ascending or 'download' descending)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    name_col = header.index("name")
    rank_col = next((i for i, h in enumerate(header) if "rank" in h or "download" in h), None)
    if rank_col is None:
        raise SystemExit(f"{path}: no rank or download column")
    sign = 1 if "rank" in header[rank_col] else -1
    ranked = []
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) > rank_col and cells[rank_col].strip().isdigit():
            ranked.append((sign * int(cells[rank_col]), cells[name_col]))
    return [name for _, name in sorted(ranked)]


def spdx_hint(kit: ModuleType, info: dict[str, Any]) -> str:
    """The best SPDX expression PyPI's JSON info offers, or '?'."""
    for value in (info.get("license_expression"), info.get("license")):
        if value and "\n" not in value and (norm := kit.normalise(value)):
            return str(norm)
    found = {
        kit.CLASSIFIER_SPDX.get(c.split(" :: ")[-1])
        for c in info.get("classifiers") or []
        if c.startswith("License ::")
    }
    return str(found.pop()) if len(found) == 1 and None not in found else "?"


def python_ok(requires: str | None) -> bool:
    """Whether this interpreter satisfies a Requires-Python specifier (unparseable: no)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return not requires or SpecifierSet(requires).contains(platform.python_version())
    except InvalidSpecifier:
        return False


def newest_release(doc: dict[str, Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """The newest final release whose files this interpreter's pip can download, and those files."""
    from packaging.version import InvalidVersion, Version

    def key(v: str) -> Version:
        try:
            return Version(v)
        except InvalidVersion:
            return Version("0.0.0.dev0")

    for version in sorted(doc.get("releases") or {}, key=key, reverse=True):
        files = [
            u for u in doc["releases"][version] if not u.get("yanked") and python_ok(u.get("requires_python"))
        ]
        if files and not key(version).is_prerelease:
            return version, files
    return None


def pypi_candidate(kit: ModuleType, name: str) -> Pkg | None:
    """Newest usable release of a PyPI project as a list entry, or None when unsuitable."""
    doc = http_json(f"https://pypi.org/pypi/{urllib.parse.quote(name)}/json")
    release = newest_release(doc) if doc else None
    if not doc or not release:
        return None
    version, files = release
    sdists = [u for u in files if u["packagetype"] == "sdist"]
    wheels = [u for u in files if u["packagetype"] == "bdist_wheel"]
    compiled = any(not u["filename"].endswith("-none-any.whl") for u in wheels)
    use_sdist = bool(sdists) and (compiled or not wheels)
    size = sdists[0]["size"] if use_sdist else min((u["size"] for u in wheels), default=0)
    if not MIN_DIST <= size <= MAX_DIST:
        return None
    est = size * EST_FACTOR["sdist" if use_sdist else "wheel"]
    return {
        "eco": "pypi",
        "name": canonical(doc["info"]["name"]),
        "version": version,
        "sdist": use_sdist,
        "hint": spdx_hint(kit, doc["info"]),
        "est": est,
    }


def npm_candidate(kit: ModuleType, name: str) -> Pkg | None:
    """Latest version of an npm package as a list entry, or None when unsuitable."""
    if PLATFORM_PKG.search(name):
        return None
    doc = http_json(f"https://registry.npmjs.org/{urllib.parse.quote(name, safe='@')}/latest")
    if not doc or "version" not in doc:
        return None
    size = content_length((doc.get("dist") or {}).get("tarball", ""))
    if not MIN_TGZ <= size <= MAX_TGZ:
        return None
    lic = doc.get("license")
    lic = lic.get("type") if isinstance(lic, dict) else lic
    hint = kit.normalise(lic) if isinstance(lic, str) else None
    return {
        "eco": "npm",
        "name": doc.get("name", name),
        "version": doc["version"],
        "sdist": False,
        "hint": hint or "?",
        "est": size * EST_FACTOR["npm"],
    }


def family(eco: str, name: str) -> str:
    """A name family: npm scope, else the first word of the name."""
    if name.startswith("@"):
        return name.split("/")[0]
    return eco + ":" + re.split(r"[-_.]", name)[0]


def choose(
    names: list[str], lookup: Callable[[str], Pkg | None], budget: float, exclude: set[str], jobs: int
) -> list[Pkg]:
    """Look names up in popularity order, keeping suitable ones until the estimated budget is met."""
    chosen: list[Pkg] = []
    seen: set[str] = set()
    families: Counter[str] = Counter()
    total = 0.0
    with cf.ThreadPoolExecutor(jobs) as ex:
        for start in range(0, len(names), 200):
            for c in ex.map(lookup, names[start : start + 200]):
                key = f"{c['eco']}:{c['name']}" if c else ""
                if (
                    not c
                    or key in exclude
                    or key in seen
                    or families[family(c["eco"], c["name"])] >= FAMILY_CAP
                ):
                    continue
                seen.add(key)
                families[family(c["eco"], c["name"])] += 1
                chosen.append(c)
                total += c["est"]
                if total >= budget:
                    return chosen
            print(f"looked up {start + 200} names: {len(chosen)} chosen, ~{total / 1e9:.2f} GB", flush=True)
    return chosen


def write_list(path: Path, eco: str, pkgs: Iterable[Pkg]) -> None:
    """Write a pinned list in the eval kit's format, sorted by name."""
    sep = "==" if eco == "pypi" else "@"
    head = (
        f"# {'name==version  [sdist]' if eco == 'pypi' else 'name@version'}   # SPDX hint from the "
        "registry (fallback only; package metadata wins)\n# generated by scale_corpus.py --make-lists\n"
    )
    lines = [
        f"{p['name'] + sep + p['version'] + ('  sdist' if p['sdist'] else ''):60s}  # {p['hint']}"
        for p in sorted(pkgs, key=lambda p: p["name"])
    ]
    path.write_text(head + "\n".join(lines) + "\n")


def make_lists(kit: ModuleType, eval_kit: Path, args: argparse.Namespace) -> None:
    """Regenerate the pinned lists from seed popularity + one registry lookup per chosen name."""
    exclude = eval_names(kit, eval_kit)
    seeds = {
        "pypi": (args.pypi_seed, pypi_candidate, args.pypi_gb),
        "npm": (args.npm_seed, npm_candidate, args.npm_gb),
    }
    for eco, (seed, lookup, gb) in seeds.items():
        if seed is None:
            continue
        names = [n for n in read_seed(seed) if not PLATFORM_PKG.search(n)]
        chosen = choose(names, lambda n, f=lookup: f(kit, n), gb * 1e9, exclude, args.jobs)  # type: ignore[misc]
        write_list(LISTS[eco], eco, chosen)
        print(
            f"{eco}: {len(chosen)} packages, ~{sum(c['est'] for c in chosen) / 1e9:.2f} GB estimated "
            f"-> {LISTS[eco]}",
            flush=True,
        )


# ---------------------------------------------------------------------------------------------


def load_lists(kit: ModuleType) -> list[Pkg]:
    """The pinned packages of both lists (kit format)."""
    return kit.parse_list(LISTS["pypi"], "pypi") + kit.parse_list(LISTS["npm"], "npm")


def cached_roots(kit: ModuleType, pkgs: list[Pkg]) -> Iterator[Pkg]:
    """Packages whose unpacked source is already under src/ (for --build-only)."""
    for p in pkgs:
        root = kit.SRC / p["eco"] / f"{p['name']}-{p['version']}"
        dl = kit.DL / p["eco"] / f"{p['name']}-{p['version']}"
        if root.is_dir() and dl.is_dir() and any(dl.iterdir()):
            p["root"], p["dist_file"] = root, min(dl.iterdir()).name
            yield p


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=8, help="concurrent downloads / lookups (<= 8 please)")
    ap.add_argument("--eval-kit", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SCALE_DATA", ".scale-data")))
    ap.add_argument("--build-only", action="store_true", help="no downloads: build from src/")
    ap.add_argument("--make-lists", action="store_true", help="regenerate the pinned lists")
    ap.add_argument("--pypi-seed", type=Path, help="make-lists: TSV of PyPI names with a rank column")
    ap.add_argument("--npm-seed", type=Path, help="make-lists: TSV of npm names with a downloads column")
    ap.add_argument("--pypi-gb", type=float, default=1.5, help="make-lists: estimated GB from PyPI")
    ap.add_argument("--npm-gb", type=float, default=1.0, help="make-lists: estimated GB from npm")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    data = args.data.resolve()
    kit = load_kit(args.eval_kit.resolve(), data)
    if args.make_lists:
        make_lists(kit, args.eval_kit.resolve(), args)
        return
    pkgs = load_lists(kit)
    overlap = {p["package"] for p in pkgs} & eval_names(kit, args.eval_kit.resolve())
    if overlap:
        raise SystemExit(f"packages also in the eval kit's lists: {sorted(overlap)}")
    start = time.monotonic()
    failed: list[tuple[str, str]] = []
    if args.build_only:
        pkgs = list(cached_roots(kit, pkgs))
    else:
        failed = fetch_all(kit, pkgs, args.jobs)
    print(f"fetch: {time.monotonic() - start:.0f}s", flush=True)
    manifest = build(kit, data, pkgs, failed)
    print(f"fetch + build: {time.monotonic() - start:.0f}s", flush=True)
    report(manifest)


if __name__ == "__main__":
    main()
