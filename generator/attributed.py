"""Completions that arrive attributed: generate → attribute → decide → annotate, withhold or credit.

    request  →  CodeModel (plain or FIM)  →  completion  →  Searcher.attribute(completion)  →  Report
             →  search_api.gate.policy.decide(report, policy)  →  by mode: annotate / block / attribution

Line numbers in the Report count lines of the completion (line 1 is its first line). A streamed
completion is re-attributed every few lines as it grows; in block mode its text is released only
after the text so far has passed the policy, and generation stops as soon as it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from generator.model import CodeModel
from generator.options import OutputMode, SamplingOptions
from generator.streaming import Completion, CompletionStream
from search_api.engine.language_guess import resolve_language
from search_api.engine.results import Report
from search_api.gate.decision import Decision, decide
from search_api.gate.policy import Outcome, Policy
from search_api.gate.policy_file import default_policy

# Attributes code: (text, language or None) -> Report. `Searcher.attribute` and the web
# app's `ServedIndex.attribute` both fit.
Attributor = Callable[[str, str | None], Report]


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """One completion to make. `suffix` (even empty) asks for fill-in-the-middle between `prompt`
    and `suffix`. `language` (The Stack's names) steers attribution; by default it is guessed
    from the prompt and the completion."""

    prompt: str
    suffix: str | None = None
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    mode: OutputMode = OutputMode.ANNOTATE
    language: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mode, OutputMode):
            try:
                object.__setattr__(self, "mode", OutputMode(self.mode))
            except ValueError:
                raise ValueError(
                    f"mode={self.mode!r}: use one of {', '.join(m.value for m in OutputMode)}"
                ) from None


@dataclass(frozen=True, slots=True)
class AttributedCompletion:
    """A completion with its Report and the policy's Decision.

    `withheld`: block mode kept the text back (the policy failed it); `notice` then says what it
    matched. In attribution mode (and block mode when the text passes) `notice` is the credit the
    sources' licenses ask for. `attribution_seconds` is the time spent attributing and deciding.
    """

    completion: Completion
    report: Report
    decision: Decision
    mode: OutputMode
    withheld: bool = False
    notice: str | None = None
    attribution_seconds: float = 0.0
    model: str = ""

    @property
    def text(self) -> str | None:
        """The completion's text, or None when it was withheld."""
        return None if self.withheld else self.completion.text

    def to_dict(self) -> dict[str, object]:
        """The ``POST /v1/generate`` answer (and ``codecite generate --json``)."""
        out: dict[str, object] = {
            "completion": self.text,
            "report": self.report.to_dict(),
            "decision": self.decision.to_dict(),
            "withheld": self.withheld,
            "mode": self.mode.value,
            "model": self.model,
            "finish_reason": self.completion.finish_reason,
        }
        if self.notice is not None:
            out["notice"] = self.notice
        details = self.completion.to_dict()
        out["usage"] = details["usage"]
        out["timing"] = {
            **details["timing"],  # type: ignore[dict-item]
            "attribution_seconds": round(self.attribution_seconds, 4),
        }
        return out


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of an attributed stream.

    ``text``: a piece of the completion (`text`). ``report``: an interim attribution of the
    completion so far (`report`, `decision`, `lines` covered). ``done``: the final `result`.
    """

    kind: str
    text: str = ""
    report: Report | None = None
    decision: Decision | None = None
    lines: int = 0
    result: AttributedCompletion | None = field(default=None)

    def to_dict(self) -> dict[str, object]:
        if self.kind == "text":
            return {"text": self.text}
        if self.kind == "report":
            assert self.report is not None and self.decision is not None
            return {"lines": self.lines, "report": self.report.to_dict(), "decision": self.decision.to_dict()}
        assert self.result is not None
        return self.result.to_dict()


class AttributedGenerator:
    """A model, an attributor and a policy: every completion comes back attributed."""

    def __init__(self, model: CodeModel, attribute: Attributor, policy: Policy | None = None) -> None:
        self.model = model
        self.attribute = attribute
        self.policy = policy if policy is not None else default_policy()

    def generate(self, request: GenerateRequest) -> AttributedCompletion:
        """Complete, attribute and decide; in block mode a failing completion is withheld."""
        completion = self.model.complete(request.prompt, request.suffix, request.sampling)
        return self._conclude(request, completion)

    def stream(self, request: GenerateRequest, every_lines: int = 5) -> Iterator[StreamEvent]:
        """Complete with streaming; re-attribute every `every_lines` new lines (see the module doc).
        A prompt the model cannot take raises here (PromptError), before any event."""
        if every_lines < 1:
            raise ValueError(f"every_lines={every_lines} must be at least 1")
        return self._events(
            request, self.model.stream(request.prompt, request.suffix, request.sampling), every_lines
        )

    def _events(
        self, request: GenerateRequest, stream: CompletionStream, every_lines: int
    ) -> Iterator[StreamEvent]:
        try:
            yield from self._attributed_stream(request, stream, every_lines)
        finally:
            stream.cancel()  # a no-op once the model is done; stops it when the caller stops listening

    def _attributed_stream(
        self, request: GenerateRequest, stream: CompletionStream, every_lines: int
    ) -> Iterator[StreamEvent]:
        block = request.mode is OutputMode.BLOCK
        text, released, checked = "", 0, 0
        failed: tuple[Report, Decision, float] | None = None
        for piece in stream:
            text += piece
            if not block:
                yield StreamEvent("text", text=piece)
            lines = text.count("\n")
            if lines < checked + every_lines:
                continue
            checked = lines
            upto = text.rindex("\n") + 1
            report, decision, seconds = self._judge(request, text[:upto])
            yield StreamEvent("report", report=report, decision=decision, lines=lines)
            if block and decision.outcome is Outcome.FAIL:
                failed = (report, decision, seconds)
                stream.cancel()
                break
            if block:
                yield StreamEvent("text", text=text[released:upto])
                released = upto
        for _ in stream:  # after a cancel: let the model stop and the completion be recorded
            pass
        assert stream.completion is not None
        result = self._conclude(request, stream.completion, failed)
        if block and not result.withheld and len(result.completion.text) > released:
            yield StreamEvent("text", text=result.completion.text[released:])
        yield StreamEvent("done", result=result)

    def _judge(self, request: GenerateRequest, text: str) -> tuple[Report, Decision, float]:
        started = time.perf_counter()
        language, _ = resolve_language(request.prompt + text, request.language)
        report = self.attribute(text, language)
        return report, decide(report, self.policy), time.perf_counter() - started

    def _conclude(
        self,
        request: GenerateRequest,
        completion: Completion,
        judged: tuple[Report, Decision, float] | None = None,
    ) -> AttributedCompletion:
        report, decision, seconds = judged or self._judge(request, completion.text)
        withheld = request.mode is OutputMode.BLOCK and decision.outcome is Outcome.FAIL
        if withheld:
            notice: str | None = withheld_notice(decision)
        elif request.mode is OutputMode.ANNOTATE:
            notice = None
        else:
            notice = attribution_notice(decision)
        return AttributedCompletion(
            completion, report, decision, request.mode, withheld, notice, seconds, self.model.name
        )


def withheld_notice(decision: Decision) -> str:
    """Why a completion was withheld: each failing match, its source and the policy rule."""
    lines = ["The completion was withheld: it reproduces code or a license notice the policy denies."]
    for finding in decision.failing:
        q = finding.match.query_span
        lines.append(
            f"- completion lines {q.start_line}-{q.end_line} match {finding.attribution} ({finding.reason})"
        )
    for noticed in decision.failing_notices:
        q = noticed.notice.query_span
        lines.append(
            f"- completion lines {q.start_line}-{q.end_line} carry a {noticed.notice.license} notice ({noticed.reason})"
        )
    lines.append(
        "Ask again with other wording or sampling settings, or use a policy that allows these licenses."
    )
    return "\n".join(lines)


def attribution_notice(decision: Decision) -> str | None:
    """The credit the matched sources' licenses ask for (None when nothing needs credit)."""
    findings = decision.attributions
    if not findings:
        return None
    lines = ["This completion contains code from other projects; keep this notice with it:"]
    for finding in findings:
        q = finding.match.query_span
        lines.append(f"- completion lines {q.start_line}-{q.end_line}: {finding.attribution}")
    return "\n".join(lines)
