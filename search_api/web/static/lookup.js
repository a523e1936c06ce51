// codecite lookup page. Plain JavaScript, no dependencies, no network but this server.
// Everything that comes from the index or the user (code, paths, licenses, URLs) is untrusted:
// the DOM is built with textContent and attributes only, never with innerHTML.
(function () {
  "use strict";

  const CONTEXT_LINES = 2; // unmatched lines shown around a match, on each side
  const MAX_SHOWN_LINES = 80; // longer spans are cut in the middle
  const MAX_PERMALINK_CHARS = 60000;
  const TOKEN_KEY = "codecite.token";
  const CATEGORY_LABELS = {
    "permissive": "permissive", "public-domain": "public domain", "weak-copyleft": "weak copyleft",
    "copyleft": "copyleft", "no-license": "no license found", "unknown": "unknown license",
  };

  const $ = (id) => document.getElementById(id);
  const state = { filename: null, documents: new Map(), busy: false };

  // ---- small DOM helpers ----------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function plural(n, word, many) {
    return `${n.toLocaleString()} ${n === 1 ? word : (many || word + "s")}`;
  }

  function safeUrl(url) {
    // Only web links: a "javascript:" URL in the index must never become a link.
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function licenseBadge(license, category, basis) {
    const cat = category || "unknown";
    return el("span", {
      className: `badge lic-${cat.replace(/[^a-z-]/g, "")}`,
      title: `${license || "no license"}: ${CATEGORY_LABELS[cat] || cat.replace(/-/g, " ")}` + (basis ? ` (read from ${basis})` : ""),
      text: license || "no license",
    });
  }

  function setStatus(node, message, kind) {
    node.textContent = message || "";
    node.className = "status" + (kind ? ` status-${kind}` : "");
  }

  // ---- talking to the API ---------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(path, options) {
    const headers = Object.assign({ "Accept": "application/json" }, (options && options.headers) || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, Object.assign({}, options, { headers }));
    } catch (err) {
      throw new ApiError(0, { title: "Network error", detail: "the server could not be reached: is it running?" });
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = { title: response.statusText, detail: `the server answered ${response.status} without JSON` };
    }
    if (!response.ok) {
      if (response.status === 401) $("token-form").hidden = false;
      if (response.status === 429) {
        const wait = response.headers.get("Retry-After");
        body.detail = `too many requests: try again in ${wait || "a few"} seconds`;
      }
      throw new ApiError(response.status, body || {});
    }
    return body;
  }

  function fetchDocument(blobId) {
    if (!state.documents.has(blobId)) {
      const pending = api(`/v1/documents/${encodeURIComponent(blobId)}`);
      pending.catch(() => state.documents.delete(blobId)); // let a later render retry
      state.documents.set(blobId, pending);
    }
    return state.documents.get(blobId);
  }

  // ---- rendering code side by side ------------------------------------------------------------

  // One numbered line; `marks` is a list of [start, end) code-point ranges of the line to highlight.
  function codeLine(number, text, hit, marks) {
    const line = el("span", { className: hit ? "line hit" : "line" },
      el("span", { className: "ln", "aria-hidden": "true", text: String(number) }));
    const body = el("span", { className: "lc" });
    const chars = Array.from(text);
    let at = 0;
    for (const [start, end] of marks || []) {
      if (start > at) body.append(chars.slice(at, start).join(""));
      body.append(el("mark", { text: chars.slice(start, end).join("") }));
      at = end;
    }
    if (at < chars.length) body.append(chars.slice(at).join(""));
    if (!chars.length) body.append(" ");
    line.append(body, "\n");
    return line;
  }

  // Lines first..last (1-based) of `lines`, with the span [spanStart, spanEnd] marked; `charMarks(n)`
  // gives the ranges to highlight on line n (default: the whole line inside the span).
  function codeBlock(lines, spanStart, spanEnd, label, charMarks) {
    const first = Math.max(1, spanStart - CONTEXT_LINES);
    const last = Math.min(lines.length, spanEnd + CONTEXT_LINES);
    const pre = el("pre", { className: "code", tabindex: "0", "aria-label": label });
    const code = el("code");
    for (let n = first; n <= last; n++) {
      const long = spanEnd - spanStart + 1 > MAX_SHOWN_LINES;
      if (long && n === spanStart + MAX_SHOWN_LINES / 2) {
        const skipped = spanEnd - MAX_SHOWN_LINES / 2 - n + 1;
        code.append(el("span", { className: "line gap", text: `  … ${plural(skipped, "more line")} …\n` }));
        n = spanEnd - MAX_SHOWN_LINES / 2;
        continue;
      }
      const text = lines[n - 1] === undefined ? "" : lines[n - 1];
      const hit = n >= spanStart && n <= spanEnd;
      const marks = hit ? (charMarks ? charMarks(n, text) : [[0, Array.from(text).length]]) : [];
      code.append(codeLine(n, text, hit, marks));
    }
    pre.append(code);
    return pre;
  }

  // Ranges of query line n covered by the match's query_chars (code-point offsets in the query).
  function queryMarks(lineStarts, chars) {
    return (n, text) => {
      const lineStart = lineStarts[n - 1];
      const length = Array.from(text).length;
      const start = Math.max(0, chars.start - lineStart);
      const end = Math.min(length, chars.end - lineStart);
      return end > start ? [[start, end]] : [];
    };
  }

  function lineStartsOf(lines) {
    const starts = [];
    let at = 0;
    for (const line of lines) {
      starts.push(at);
      at += Array.from(line).length + 1;
    }
    return starts;
  }

  function spanText(span) {
    return span.start_line === span.end_line ? `line ${span.start_line}` : `lines ${span.start_line}–${span.end_line}`;
  }

  // How a copy relates to the match's source (the Report's relation: identical, near-duplicate, same-span).
  function relationText(copy) {
    const where = copy.source_span ? ", " + spanText(copy.source_span) : "";
    if (copy.relation === "identical") return " identical copy";
    if (copy.relation === "same-span") return ` same span in another file${where}`;
    return ` near-duplicate${where}`;
  }

  // ---- attribution notices --------------------------------------------------------------------

  // The file an attribution credits: the match's origin (the author's license and copyright),
  // not a vendoring copy's; the matched source when the report names no origin.
  function creditedOf(match) {
    return match.origin || match.source;
  }

  // One file of the index: identical copies share a blob id, not a repository and path.
  function sameFile(a, b) {
    return Boolean(a && b) && a.blob_id === b.blob_id && a.repo === b.repo && a.path === b.path;
  }

  function noticeFor(match) {
    const s = creditedOf(match);
    const matched = match.source;
    const same = sameFile(s, matched);
    const span = same ? `, lines ${match.source_span.start_line}-${match.source_span.end_line}` : "";
    const lines = [
      `Lines ${match.query_span.start_line}-${match.query_span.end_line} of this code match ${s.repo}, ` +
        `file ${s.path}${span}.`,
      `License: ${s.license || "no license found (NOASSERTION)"}.`,
    ];
    if (s.url) lines.push(`Source: ${s.url}`);
    if (!same) lines.push(`Found through the copy in ${matched.repo}, file ${matched.path} (${matched.license || "no license found"}).`);
    const copies = (match.copies || []).filter((c) => !sameFile(c, s));
    for (const copy of copies.slice(0, 5)) {
      lines.push(`Also in ${copy.repo}, file ${copy.path} (${copy.license || "no license found"}).`);
    }
    if (copies.length > 5) lines.push(`Also in ${plural(copies.length - 5, "more file")}.`);
    return lines.join("\n");
  }

  async function copyText(text, button) {
    const original = button.textContent;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        const area = el("textarea", { className: "visually-hidden", "aria-hidden": "true" });
        area.value = text;
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Copy failed: select the text instead";
    }
    setTimeout(() => { button.textContent = original; }, 2000);
  }

  // ---- provenance: dates, stars, vendoring ----------------------------------------------------

  const DATE_KINDS = {
    "first-committed": "first committed", "committed": "committed",
    "repository-created": "repository created", "archived": "archived",
  };

  // A file's provenance as the Report gives it: "2013-05-02 committed · 120 stars · vendored".
  function refFacts(ref) {
    const facts = [];
    if (ref.date) facts.push(`${String(ref.date).slice(0, 10)} ${DATE_KINDS[ref.date_kind] || "dated"}`);
    if (ref.stars) facts.push(plural(ref.stars, "star"));
    return facts.join(" · ");
  }

  function vendoredFlag(ref) {
    return ref.vendored ? el("span", { className: "flag vendored", title: "Someone else's code carried along in this repository", text: "vendored" }) : null;
  }

  // What /v1/documents says of a file: its dates, stars, snapshot and license reading.
  function provenanceLine(doc) {
    const p = doc.provenance || {};
    const day = (v) => String(v).slice(0, 10);
    const facts = [];
    if (p.first_commit_date) facts.push(`first committed ${day(p.first_commit_date)}`);
    if (p.revision_date) facts.push(`revision ${day(p.revision_date)}`);
    if (p.gha_created_at) facts.push(`repository created ${day(p.gha_created_at)}`);
    if (p.visit_date) facts.push(`archived ${day(p.visit_date)}`);
    if (p.star_events_count) facts.push(plural(p.star_events_count, "star"));
    if (p.fork_events_count) facts.push(plural(p.fork_events_count, "fork"));
    if (p.is_vendor) facts.push("vendored");
    if (p.is_generated) facts.push("generated");
    if (p.license_basis) facts.push(`license from ${p.license_basis}`);
    return facts.length ? el("p", { className: "provenance muted small", text: facts.join(" · ") }) : null;
  }

  // The most likely origin, shown first in a card: the file, its date and why.
  function originBlock(match) {
    const o = match.origin;
    if (!o || (o.copies_weighed || 1) <= 1) return null; // one file: the header says it all
    const url = o.url ? safeUrl(o.url) : null;
    const name = `${o.repo} / ${o.path}`;
    const same = sameFile(o, match.source);
    return el("p", { className: "origin" },
      el("strong", { text: "Origin: " }),
      url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: name }) : el("span", { text: name }),
      " ", licenseBadge(o.license, o.license_category), " ", vendoredFlag(o),
      el("span", { className: "muted", text: ` ${refFacts(o)}${same ? " (the source shown)" : ""} — ${o.reason}` }));
  }

  // ---- a match card ---------------------------------------------------------------------------

  function matchCard(match, index, queryLines, lineStarts) {
    const s = match.source;
    const url = s.url ? safeUrl(s.url) : null;
    const title = url
      ? el("a", { href: url, className: "source-link", target: "_blank", rel: "noopener noreferrer" }, s.repo, el("span", { className: "path", text: ` / ${s.path}` }))
      : el("span", { className: "source-link" }, s.repo, el("span", { className: "path", text: ` / ${s.path}` }));
    const repos = match.repos_with_span || 1;
    const facts = el("p", { className: "facts" },
      licenseBadge(s.license, s.license_category, s.license_basis),
      el("span", { text: `${match.method}, ${Math.round((match.similarity || 0) * 100)}% similar` }),
      confidenceBadge(match.confidence),
      el("span", { className: "repos", text: `found in ${plural(repos, "repo")}` }),
      match.boilerplate ? el("span", { className: "flag", title: "Held by many repositories: probably common code", text: "common boilerplate" }) : null,
      vendoredFlag(s),
      refFacts(s) ? el("span", { text: refFacts(s) }) : null);

    const queryPane = el("figure", { className: "pane query-pane" },
      el("figcaption", { text: `Your code, ${spanText(match.query_span)}` }),
      codeBlock(queryLines, match.query_span.start_line, match.query_span.end_line,
        `Your code, ${spanText(match.query_span)}`, match.query_chars ? queryMarks(lineStarts, match.query_chars) : null));
    const sourceBody = el("div", { className: "source-body" }, el("p", { className: "loading", text: "Loading the source…" }));
    const sourcePane = el("figure", { className: "pane source-pane" },
      el("figcaption", {}, `${s.path}, ${spanText(match.source_span)}`), sourceBody);

    fetchDocument(s.blob_id).then((doc) => {
      const lines = doc.content.split("\n");
      sourceBody.replaceChildren(codeBlock(lines, match.source_span.start_line, match.source_span.end_line,
        `Source ${s.repo} ${s.path}, ${spanText(match.source_span)}`));
      const facts = provenanceLine(doc);
      if (facts) sourceBody.append(facts);
    }).catch((err) => {
      sourceBody.replaceChildren(el("p", { className: "error", text: `The source text is not available: ${err.message}` }));
    });

    const notice = noticeFor(match);
    const noticeButton = el("button", { type: "button", className: "secondary copy-notice" }, "Copy attribution notice");
    noticeButton.addEventListener("click", () => copyText(notice, noticeButton));

    return el("li", { className: "match card" },
      el("header", { className: "match-head" },
        el("h3", {}, el("span", { className: "match-n", text: `${index + 1}` }), title),
        facts),
      originBlock(match),
      el("p", { className: "spans", text: `Your ${spanText(match.query_span)} ↔ source ${spanText(match.source_span)}` }),
      el("div", { className: "side-by-side" }, queryPane, sourcePane),
      copiesList(match),
      el("details", { className: "notice" },
        el("summary", { text: "Attribution notice" }),
        el("pre", { className: "notice-text", text: notice })),
      el("div", { className: "card-actions" }, noticeButton));
  }

  // How sure the engine is that the span was copied rather than written independently (0..1, calibrated).
  function confidenceBadge(confidence) {
    if (typeof confidence !== "number") return null;
    const pct = Math.round(confidence * 100);
    const level = confidence >= 0.9 ? "high" : confidence >= 0.7 ? "medium" : "low";
    return el("span", { className: `confidence confidence-${level}`,
      title: "Calibrated probability that these lines were copied, not written independently",
      text: `${pct}% confidence` });
  }

  function noticesList(notices) {
    const list = el("ul", { className: "notices-list" });
    for (const n of notices) {
      const named = n.license ? [" ", licenseBadge(n.license, n.license_category)] : [];
      list.append(el("li", {}, `Your ${spanText(n.query_span)}: ${n.kind} text`, ...named));
    }
    return el("section", { className: "notices", "aria-label": "License and copyright notices in your code" },
      el("h3", { text: "Notices in your code" }),
      el("p", { className: "muted small", text: "License, copyright and warranty text says under which license code claims to be; it is never matched to a source." }),
      list);
  }

  // Every other file holding the span, the origin first, each with its provenance.
  function copiesList(match) {
    const origin = match.origin;
    const copies = [...(match.copies || [])];
    if (!copies.length) return null;
    copies.sort((a, b) => Number(sameFile(b, origin)) - Number(sameFile(a, origin)));
    const list = el("ul", { className: "copies-list" });
    for (const copy of copies) {
      const url = copy.url ? safeUrl(copy.url) : null;
      const name = `${copy.repo} / ${copy.path}`;
      const isOrigin = sameFile(copy, origin);
      list.append(el("li", { className: isOrigin ? "is-origin" : null },
        url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: name }) : el("span", { text: name }),
        " ", licenseBadge(copy.license, copy.license_category), " ", vendoredFlag(copy),
        isOrigin ? el("span", { className: "flag origin-flag", text: "origin" }) : null,
        el("span", { className: "relation", text: relationText(copy) + (refFacts(copy) ? ` · ${refFacts(copy)}` : "") })));
    }
    return el("details", { className: "copies" },
      el("summary", { text: `Also in ${plural(copies.length, "other file")}` }), list);
  }

  // ---- the summary ----------------------------------------------------------------------------

  function categoriesByLicense(matches) {
    const out = {};
    for (const m of matches) {
      for (const ref of [m.source, ...(m.copies || [])]) out[ref.license || "NOASSERTION"] = ref.license_category;
    }
    return out;
  }

  function summary(report, container, extra) {
    const matches = report.matches || [];
    container.replaceChildren();
    const lines = (report.query && report.query.lines) || 0;
    const language = report.query && report.query.language ? `, ${report.query.language}` : "";
    if (!matches.length) {
      container.append(el("p", { className: "verdict clean", text: `No indexed source matches these ${plural(lines, "line")}${language}.` }));
    } else {
      const covered = new Set();
      for (const m of matches) for (let n = m.query_span.start_line; n <= m.query_span.end_line; n++) covered.add(n);
      container.append(el("p", { className: "verdict", text: `${plural(matches.length, "match", "matches")} ${matches.length === 1 ? "covers" : "cover"} ${covered.size} of ${plural(lines, "line")}${language}.` }));
      const categories = categoriesByLicense(matches);
      const licenses = el("ul", { className: "license-summary", "aria-label": "Licenses of the matched sources" });
      for (const [license, count] of Object.entries(report.licenses || {})) {
        licenses.append(el("li", {}, licenseBadge(license === "NOASSERTION" ? null : license, categories[license]), ` ${plural(count, "line")}`));
      }
      container.append(el("h3", { text: "Licenses" }), licenses);
      const all = matches.map(noticeFor).join("\n\n");
      const button = el("button", { type: "button", className: "secondary" }, "Copy all attribution notices");
      button.addEventListener("click", () => copyText(all, button));
      container.append(el("div", { className: "card-actions" }, button));
    }
    const notices = report.notices || [];
    if (notices.length) container.append(noticesList(notices));
    const common = report.boilerplate || [];
    if (common.length) container.append(boilerplateList(common));
    if (report.decision) container.append(decisionBlock(report.decision));
    for (const warning of report.warnings || []) container.append(el("p", { className: "warning", text: warning }));
    if (extra) container.append(extra);
    const index = report.index || {};
    container.append(el("p", { className: "muted small", text: `Index ${index.id || "?"}, ${plural(index.documents || 0, "file")}; answered in ${Number(report.elapsed_ms || 0).toFixed(1)} ms.` }));
  }

  function boilerplateList(spans) {
    const list = el("ul", { className: "boilerplate-list" });
    for (const m of spans) {
      list.append(el("li", {}, `Your ${spanText(m.query_span)}: common code, in about ${plural(m.repos_with_span || 1, "repo")} (e.g. ${m.source.repo} / ${m.source.path})`));
    }
    return el("details", { className: "boilerplate" },
      el("summary", { text: `${plural(spans.length, "common boilerplate span")}, not attributed` }), list);
  }

  function decisionBlock(decision) {
    const outcome = String(decision.outcome || decision.status || decision.decision || "decision");
    const block = el("div", { className: `decision decision-${outcome.replace(/[^a-z-]/gi, "").toLowerCase()}` },
      el("h3", { text: `Policy: ${outcome}` }));
    const todo = [...new Set([...(decision.findings || []), ...(decision.notice_findings || [])]
      .map((f) => f.what_to_do).filter(Boolean))];
    if (todo.length) block.append(el("ul", {}, ...todo.map((t) => el("li", { text: String(t) }))));
    if (decision.notice) block.append(el("pre", { className: "notice-text", text: String(decision.notice) }));
    return block;
  }

  function renderReport(report, queryText, summaryNode, listNode) {
    const queryLines = queryText.split("\n");
    const lineStarts = lineStartsOf(queryLines);
    summary(report, summaryNode);
    listNode.replaceChildren(...(report.matches || []).map((m, i) => matchCard(m, i, queryLines, lineStarts)));
  }

  // ---- look up --------------------------------------------------------------------------------

  async function lookUp(event) {
    if (event) event.preventDefault();
    if (state.busy) return;
    const code = $("code").value;
    const status = $("status");
    if (!code.trim()) {
      setStatus(status, "Paste some code first (or drop a file onto the box).", "error");
      $("code").focus();
      return;
    }
    const body = { code };
    if ($("language").value) body.language = $("language").value;
    else if (state.filename) body.filename = state.filename;
    state.busy = true;
    $("lookup-button").disabled = true;
    setStatus(status, "Looking up…", "busy");
    try {
      const report = await api("/v1/attribute", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      renderReport(report, code, $("summary"), $("matches"));
      $("results").hidden = false;
      const n = (report.matches || []).length;
      setStatus(status, n ? `Found ${plural(n, "match", "matches")}.` : "No match found.", n ? "found" : "clean");
      updatePermalink(code);
    } catch (err) {
      $("results").hidden = true;
      setStatus(status, `${err.problem && err.problem.title ? err.problem.title + ": " : ""}${err.message}`, "error");
    } finally {
      state.busy = false;
      $("lookup-button").disabled = false;
    }
  }

  // ---- files ----------------------------------------------------------------------------------

  async function loadFile(file) {
    const status = $("status");
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (bytes.includes(0)) throw new Error("it looks binary (it has NUL bytes)");
      const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      $("code").value = text.replace(/^\uFEFF/, "");
      state.filename = file.name;
      $("file-name").textContent = `Loaded ${file.name} (${plural(bytes.length, "byte")}).`;
      setStatus(status, "");
      lookUp();
    } catch (err) {
      setStatus(status, `Cannot read ${file.name}: ${err.name === "TypeError" ? "it is not UTF-8 text" : err.message}.`, "error");
    }
  }

  function setUpDropZone() {
    const zone = $("drop-zone");
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
    }
    for (const name of ["dragleave", "drop"]) {
      zone.addEventListener(name, () => zone.classList.remove("dragging"));
    }
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) loadFile(file);
    });
    $("file").addEventListener("change", (e) => { if (e.target.files[0]) loadFile(e.target.files[0]); });
    $("code").addEventListener("input", () => { state.filename = null; $("file-name").textContent = ""; });
  }

  // ---- permalinks: the code travels in the #fragment, which browsers never send to a server ----

  function encodeFragment(code, language) {
    const bytes = new TextEncoder().encode(code);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const params = new URLSearchParams();
    params.set("code", btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
    if (language) params.set("lang", language);
    return params.toString();
  }

  function decodeFragment(hash) {
    const params = new URLSearchParams(hash.replace(/^#/, ""));
    const packed = params.get("code");
    if (!packed) return null;
    const binary = atob(packed.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return { code: new TextDecoder("utf-8", { fatal: true }).decode(bytes), language: params.get("lang") || "" };
  }

  function permalink(code) {
    const url = new URL(window.location.href);
    url.hash = encodeFragment(code, $("language").value);
    return url.href;
  }

  function updatePermalink(code) {
    if (code.length <= MAX_PERMALINK_CHARS) history.replaceState(null, "", "#" + encodeFragment(code, $("language").value));
  }

  function copyPermalink() {
    const code = $("code").value;
    const button = $("permalink-button");
    if (!code.trim()) {
      setStatus($("status"), "Paste some code first: the permalink carries it.", "error");
      return;
    }
    if (code.length > MAX_PERMALINK_CHARS) {
      setStatus($("status"), "This code is too long for a link; share the file instead.", "error");
      return;
    }
    copyText(permalink(code), button);
  }

  function restoreFromFragment() {
    let shared = null;
    try {
      shared = decodeFragment(window.location.hash);
    } catch (_) {
      setStatus($("status"), "The link's code could not be read (it may have been cut short).", "error");
    }
    if (!shared) return;
    $("code").value = shared.code;
    if ([...$("language").options].some((o) => o.value === shared.language)) $("language").value = shared.language;
    lookUp();
  }

  // ---- tabs and the optional Generate feature --------------------------------------------------

  function selectTab(tab) {
    for (const other of document.querySelectorAll('[role="tab"]')) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    tab.focus();
  }

  function setUpTabs() {
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    for (const tab of tabs) {
      tab.addEventListener("click", () => selectTab(tab));
      tab.addEventListener("keydown", (e) => {
        const i = tabs.indexOf(tab);
        const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
        if (next === undefined) return;
        e.preventDefault();
        selectTab(tabs[(next + tabs.length) % tabs.length]);
      });
    }
  }

  async function generate(event) {
    event.preventDefault();
    const status = $("generate-status");
    const prompt = $("prompt").value;
    if (!prompt.trim()) {
      setStatus(status, "Write a prompt first.", "error");
      $("prompt").focus();
      return;
    }
    const body = { prompt, mode: $("generate-mode").value };
    if ($("suffix").value) body.suffix = $("suffix").value;
    $("generate-button").disabled = true;
    setStatus(status, "Generating…", "busy");
    try {
      const answer = await api("/v1/generate", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const completion = answer.completion === null || answer.completion === undefined ? "" : answer.completion;
      $("completion").textContent = answer.withheld ? "(withheld by the policy)" : completion;
      const notice = $("generate-notice");
      notice.hidden = !answer.notice;
      notice.textContent = answer.notice || "";
      const report = Object.assign({}, answer.report || {}, answer.decision ? { decision: answer.decision } : {});
      renderReport(report, completion, $("generate-summary"), $("generate-matches"));
      $("generate-results").hidden = false;
      const n = (report.matches || []).length;
      setStatus(status, answer.withheld ? "The completion was withheld." : `Done: ${plural(n, "match", "matches")} in the completion.`, n ? "found" : "clean");
    } catch (err) {
      setStatus(status, `${err.problem && err.problem.title ? err.problem.title + ": " : ""}${err.message}`, "error");
    } finally {
      $("generate-button").disabled = false;
    }
  }

  // ---- start ----------------------------------------------------------------------------------

  async function showIndex() {
    try {
      const stats = await api("/v1/stats");
      const repos = stats.repos !== undefined ? ` in ${plural(stats.repos, "repository", "repositories")}` : "";
      $("index-info").textContent = `Index ${stats.index_id}: ${plural(stats.documents || 0, "file")}${repos}.`;
      const features = stats.features || [];
      $("tabs").hidden = !features.includes("generate");
      document.body.dataset.features = features.join(" ");
    } catch (err) {
      $("index-info").textContent = `The index is not available: ${err.message}`;
      $("index-info").classList.add("error");
    }
  }

  function start() {
    $("lookup-form").addEventListener("submit", lookUp);
    $("code").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) lookUp(e); });
    $("permalink-button").addEventListener("click", copyPermalink);
    $("generate-form").addEventListener("submit", generate);
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token").value.trim();
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
      $("token-form").hidden = true;
      showIndex();
      if ($("code").value.trim()) lookUp();
    });
    setUpDropZone();
    setUpTabs();
    showIndex().then(() => { document.body.dataset.ready = "true"; });
    restoreFromFragment();
    window.addEventListener("hashchange", restoreFromFragment);
  }

  start();
})();
