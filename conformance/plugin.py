"""The pytest plugin: options, the run's session, Hypothesis settings, the report.

Registered through the ``pytest11`` entry point, it stays inert unless ``--csr-target``
is given, so the project's own tests and other projects' pytest runs are unaffected.
``csr-conformance run`` drives pytest through these options; running
``pytest --pyargs conformance.properties --csr-target fake`` directly works as well.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from conformance.client import TargetError
from conformance.identities import ADMIN, APPROVER, SIGNER, USER
from conformance.properties import support
from conformance.session import PROFILES, Session
from conformance.targets import KINDS, TargetSpec, open_target
from reports.model import CaseResult, RunResult

DEFAULT_EXAMPLES = 25


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("csr-conformance")
    g.addoption("--csr-target", choices=KINDS, default=None, help="run the CSR properties here")
    g.addoption("--csr-kubeconfig", default=None, help="kubeconfig for --csr-target kubeconfig")
    g.addoption("--csr-context", default=None, help="admin context (default: current)")
    g.addoption("--csr-user-context", default=None)
    g.addoption("--csr-approver-context", default=None)
    g.addoption("--csr-signer-context", default=None)
    g.addoption("--csr-assets", default=None, help="control-plane binaries directory")
    g.addoption("--csr-fault", action="append", default=[], help="fault of the fake (repeatable)")
    g.addoption("--csr-http", action="store_true", default=False, help="fake over plain HTTP")
    g.addoption("--csr-profile", choices=PROFILES, default="kube-apiserver")
    g.addoption("--csr-examples", type=int, default=DEFAULT_EXAMPLES)
    g.addoption("--csr-seed", type=int, default=None)
    g.addoption("--csr-report-dir", default=None, help="write junit.xml and summary.md here")
    g.addoption("--csr-target-label", default=None, help="how the report names the target")
    g.addoption("--csr-target-kind", default=None, help="how the report names the target kind")
    g.addoption(
        "--csr-fault-label",
        action="append",
        default=[],
        help="a fault already injected into the target (for the report)",
    )
    g.addoption("--csr-replay", default=None, help="command prefix that replays this run")
    g.addoption(
        "--csr-shrink-seconds",
        type=int,
        default=60,
        help="at most this long shrinking each failure (default 60)",
    )
    g.addoption("--csr-timeout", type=float, default=30.0, help="seconds per request")


def _active(config: pytest.Config) -> bool:
    return config.getoption("--csr-target", default=None) is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "csr_rules(*ids): spec rules a property checks")
    if not _active(config):
        return
    seed = config.getoption("--csr-seed")
    shrink_seconds = config.getoption("--csr-shrink-seconds")
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    if shrink_seconds > 0:
        phases.append(Phase.shrink)
    settings.register_profile(
        "csr-conformance",
        max_examples=max(1, config.getoption("--csr-examples")),
        deadline=None,
        derandomize=seed is None,
        database=None,
        print_blob=True,
        report_multiple_bugs=False,
        phases=phases,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    settings.load_profile("csr-conformance")
    _bound_shrinking(shrink_seconds)
    recorder = _Recorder(config)
    config.pluginmanager.register(recorder, "csr-conformance-recorder")


def _bound_shrinking(seconds: int) -> None:
    """Cap the time Hypothesis spends shrinking one failure.

    Every shrink step replays the example over HTTP, so the default five-minute budget
    per failure would dominate a CI run against a bad server. The constant is internal to
    Hypothesis; if it moves, shrinking simply keeps Hypothesis's own bound.
    """
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover - layout change in Hypothesis
        return
    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = seconds


class _Recorder:
    """Opens the target for the session and turns test outcomes into the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cases: dict[str, CaseResult] = {}
        self.started = time.time()
        self.session: Session | None = None
        self.setup_error: str | None = None
        self._stack = contextlib.ExitStack()

    # -- session -------------------------------------------------------------------

    def _spec(self) -> TargetSpec:
        opt = self.config.getoption
        contexts = {
            role: value
            for role, value in (
                (ADMIN, opt("--csr-context")),
                (USER, opt("--csr-user-context")),
                (APPROVER, opt("--csr-approver-context")),
                (SIGNER, opt("--csr-signer-context")),
            )
            if value
        }
        return TargetSpec(
            kind=opt("--csr-target"),
            kubeconfig=opt("--csr-kubeconfig"),
            contexts=contexts,
            assets=opt("--csr-assets"),
            faults=tuple(opt("--csr-fault")),
            http=opt("--csr-http"),
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        seed = self.config.getoption("--csr-seed")
        if seed is not None and hasattr(self.config.option, "hypothesis_seed"):
            self.config.option.hypothesis_seed = seed
        try:
            env = self._stack.enter_context(open_target(self._spec()))
        except Exception as e:  # start-up failures become one error entry
            self.setup_error = str(e) or type(e).__name__
            return
        self.session = Session(
            env=env,
            profile=self.config.getoption("--csr-profile"),
            timeout=self.config.getoption("--csr-timeout"),
        )
        support.bind_session(self.session)
        with contextlib.suppress(Exception):
            self.session.fetch_version()

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        try:
            if self.session is not None and self.session.breaker.reason is None:
                with contextlib.suppress(Exception):
                    self.session.sweep()
        finally:
            support.bind_session(None)
            self._stack.close()
        report_dir = self.config.getoption("--csr-report-dir")
        if report_dir:
            self._write_report(report_dir)

    # -- per test ------------------------------------------------------------------

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        support.set_current_test(item.nodeid)
        if self.setup_error is not None:
            pytest.fail(f"target could not be started: {self.setup_error}", pytrace=False)
        if self.session is not None and self.session.breaker.reason is not None:
            pytest.fail(f"target unavailable: {self.session.breaker.reason}", pytrace=False)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        # Hypothesis would write a source patch into the user's working directory; the
        # report carries the minimal example instead.
        report.__dict__.pop("_hypothesis_failing_examples", None)
        case = self.cases.get(item.nodeid)
        if case is None:
            fn = getattr(item, "function", None)
            case = CaseResult(
                name=item.name,
                classname=getattr(getattr(item, "module", None), "__name__", item.nodeid),
                nodeid=item.nodeid,
                rules=support.rules_of(fn),
                doc=((getattr(fn, "__doc__", None) or "").strip().splitlines() or [""])[0],
            )
            self.cases[item.nodeid] = case
        case.seconds += report.duration
        if report.skipped:
            case.outcome = "skipped"
            reason = (
                report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            )
            case.message = reason.removeprefix("Skipped: ")
            return
        if report.passed:
            if report.when == "call" and case.outcome == "":
                case.outcome = "passed"
            return
        # failed in setup, call or teardown
        infra = call.excinfo is not None and (
            call.excinfo.errisinstance(TargetError) or report.when != "call"
        )
        if self.setup_error is not None or (
            self.session is not None and self.session.breaker.reason is not None
        ):
            infra = True
        case.outcome = "error" if infra else "failed"
        text = report.longreprtext
        case.message = _first_line(call.excinfo.exconly() if call.excinfo else text)
        case.details = text
        case.transcript = support.pop_failed_transcript(item.nodeid) or ""
        case.replay = self._replay(item)

    def _replay(self, item: pytest.Item) -> str:
        base = self.config.getoption("--csr-replay") or "csr-conformance run"
        seed = self.config.getoption("--csr-seed")
        seed_part = f" --seed {seed}" if seed is not None and "--seed" not in base else ""
        return f"{base}{seed_part} -k {item.name.split('[')[0]}"

    # -- report --------------------------------------------------------------------

    def _write_report(self, report_dir: str) -> None:
        from reports import write_reports

        env = self.session.env if self.session else None
        label = self.config.getoption("--csr-target-label") or (
            env.description if env else self.config.getoption("--csr-target")
        )
        props = {
            "target": label,
            "target.kind": self.config.getoption("--csr-target-kind")
            or self.config.getoption("--csr-target"),
            "profile": self.config.getoption("--csr-profile"),
            "examples": str(self.config.getoption("--csr-examples")),
            "seed": str(self.config.getoption("--csr-seed") or "derandomized"),
            "faults": ",".join(
                self.config.getoption("--csr-fault") + self.config.getoption("--csr-fault-label")
            )
            or "none",
        }
        if self.session is not None:
            props["run-id"] = self.session.run_id
            props["server.version"] = self.session.server_version or "unknown"
            t = self.session.transcript
            props["http.requests"] = str(t.requests)
            props["http.seconds"] = f"{t.request_seconds:.2f}"
        cases = list(self.cases.values())
        if self.setup_error is not None and not cases:
            cases = [
                CaseResult(
                    name="target",
                    classname="conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message=self.setup_error,
                )
            ]
        result = RunResult(
            cases=cases,
            properties=props,
            seconds=time.time() - self.started,
            setup_error=self.setup_error,
        )
        os.makedirs(report_dir, exist_ok=True)
        write_reports(result, report_dir)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""
