"""The pytest plugin: options, the run's session, Hypothesis settings, the report.

Registered through the ``pytest11`` entry point, it stays inert unless ``--csr-target``
is given, so the project's own tests and other projects' pytest runs are unaffected.
``csr-conformance run`` drives pytest through these options; running
``pytest --pyargs conformance.properties --csr-target fake`` directly works as well.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from conformance import runstop
from conformance.client import TargetError
from conformance.identities import ADMIN, APPROVER, SIGNER, USER
from conformance.oracle.versions import NEWEST, UNVERIFIED, KubeVersion, deciding, judge
from conformance.properties import support
from conformance.session import PROFILES, Session
from conformance.targets import KINDS, TargetSpec, open_target
from reports.concerns import case_rules, concern_of, failure_message
from reports.model import CaseResult, RunResult

DEFAULT_EXAMPLES = 25
DEFAULT_SHRINK_SECONDS = 30.0
DEFAULT_SHRINK_BUDGET = 300.0


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("csr-conformance")
    g.addoption("--csr-target", choices=KINDS, default=None, help="run the CSR properties here")
    g.addoption("--csr-kubeconfig", default=None, help="kubeconfig for --csr-target kubeconfig")
    g.addoption("--csr-context", default=None, help="admin context (default: current)")
    g.addoption("--csr-user-context", default=None)
    g.addoption("--csr-approver-context", default=None)
    g.addoption("--csr-signer-context", default=None)
    g.addoption("--csr-assets", default=None, help="control-plane binaries directory")
    g.addoption(
        "--csr-compaction",
        default=None,
        help="how the target compacts its history on demand (fake:PATH or etcd:URL)",
    )
    g.addoption(
        "--csr-watch-cache",
        choices=("on", "off"),
        default="on",
        help="control plane: kube-apiserver's watch cache",
    )
    g.addoption(
        "--csr-storage",
        choices=("etcd", "kine-sqlite", "kine-memory"),
        default="etcd",
        help="control plane: kube-apiserver's storage",
    )
    g.addoption("--csr-kine-version", default=None, help="control plane on kine: the release")
    g.addoption(
        "--csr-kube-version",
        default=None,
        help="judge the server as this Kubernetes release (default: what /version says)",
    )
    g.addoption(
        "--csr-expected-failures",
        default=None,
        help="JSON file of triaged findings whose failures are expected (besides kine's own)",
    )
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
        type=float,
        default=DEFAULT_SHRINK_SECONDS,
        help=f"at most this long shrinking each failure (default {DEFAULT_SHRINK_SECONDS:g})",
    )
    g.addoption(
        "--csr-shrink-budget",
        type=float,
        default=DEFAULT_SHRINK_BUDGET,
        help="at most this long shrinking all failures of the run together "
        f"(default {DEFAULT_SHRINK_BUDGET:g})",
    )
    g.addoption(
        "--csr-max-time",
        default=None,
        help="stop the whole run after this long (90s, 30m, 1h); unfinished properties "
        "are reported as not run",
    )
    g.addoption(
        "--csr-rule",
        action="append",
        default=[],
        help="only properties that check this rule id (repeatable)",
    )
    g.addoption(
        "--csr-skip",
        action="append",
        default=[],
        help="leave out properties that check this rule id or have this name (repeatable)",
    )
    g.addoption(
        "--csr-nodeids",
        default=None,
        help="a file of test ids, one per line: run only these (e.g. the last failures)",
    )
    g.addoption(
        "--csr-progress",
        action="store_true",
        default=False,
        help="print one line per property as it finishes (concern, outcome, time)",
    )
    g.addoption(
        "--csr-reproduce",
        default=None,
        help="results.json of an earlier run: replay exactly its failing examples",
    )
    g.addoption("--csr-timeout", type=float, default=30.0, help="seconds per request")
    g.addoption(
        "--csr-signer",
        action="append",
        default=[],
        help="signer the signer properties judge (repeatable; default: the kubernetes.io "
        "signers on the fake and the control plane)",
    )
    g.addoption(
        "--csr-signer-ca", default=None, help="CA bundle the signer's certificates verify to"
    )
    g.addoption(
        "--csr-signer-timeout", type=float, default=30.0, help="seconds a signer has to issue"
    )
    g.addoption(
        "--csr-allow-node-subjects",
        action="store_true",
        default=False,
        help="let the signer properties request system:node:* subjects",
    )


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
    support.bind_shrink_budget(
        support.ShrinkBudget(
            per_failure=shrink_seconds, total=config.getoption("--csr-shrink-budget")
        )
    )
    max_time = config.getoption("--csr-max-time")
    try:
        budget = runstop.parse_duration(max_time) if max_time else None
    except ValueError as e:
        raise pytest.UsageError(f"--csr-max-time: {e}") from None
    runstop.install(budget, max_time or "")
    recorder = _Recorder(config)
    config.pluginmanager.register(recorder, "csr-conformance-recorder")


class _Recorder:
    """Opens the target for the session and turns test outcomes into the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cases: dict[str, CaseResult] = {}
        self.started = time.time()
        self.session: Session | None = None
        self.setup_error: str | None = None
        self._stack = contextlib.ExitStack()
        self.reproduce: dict[str, tuple[str, bytes]] = {}
        self.running = ""
        self.stop: runstop.RunStopped | None = None
        self.internal_error = ""
        self._loaded_findings: tuple[Any, ...] | None = None

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
            signers=tuple(opt("--csr-signer")),
            watch_cache=opt("--csr-watch-cache") == "on",
            storage=opt("--csr-storage"),
            kine_version=opt("--csr-kine-version"),
            kube_version=opt("--csr-kube-version"),
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
            compaction=self.config.getoption("--csr-compaction") or env.compaction,
        )
        option = self.config.getoption("--csr-kube-version")
        if option:
            self.session.kube_option = KubeVersion.parse(option)
            self.session.kube = judge(None, self.session.kube_option)
        support.bind_session(self.session)
        with contextlib.suppress(Exception):
            self.session.fetch_version()

    # -- selection -----------------------------------------------------------------

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        wanted_rules = set(config.getoption("--csr-rule"))
        skipped = set(config.getoption("--csr-skip"))
        nodeids: set[str] | None = None
        if config.getoption("--csr-nodeids"):
            with open(config.getoption("--csr-nodeids"), encoding="utf-8") as f:
                nodeids = {line.strip() for line in f if line.strip()}
        path = config.getoption("--csr-reproduce")
        if path:
            self.reproduce = load_reproductions(path)
            nodeids = set(self.reproduce) if nodeids is None else nodeids & set(self.reproduce)

        def keep(item: pytest.Item) -> bool:
            rules = set(case_rules(item, support.rules_of(getattr(item, "function", None))))
            if wanted_rules and not rules & wanted_rules:
                return False
            if skipped & (rules | {item.name, item.name.split("[")[0], item.nodeid}):
                return False
            return nodeids is None or item.nodeid in nodeids

        kept = [i for i in items if keep(i)]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if not keep(i)])
            items[:] = kept

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Every selected property gets an entry now, so an early stop still lists it."""
        for item in session.items:
            self._case(item)

    # -- session end ---------------------------------------------------------------

    def pytest_internalerror(
        self, excrepr: object, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> bool:
        """A crash of the runner (or of a plugin) becomes the report's stop reason.

        Returning True keeps pytest from printing ``INTERNALERROR>`` tracebacks: the
        report names the crash, and the CLI says it in one line.
        """
        self.internal_error = _message_line(excinfo.exconly(), 300)
        return True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        stop = runstop.stopped()  # a signal during the clean-up below is not a stop
        runstop.disarm()
        with runstop.shielded():
            try:
                if self.session is not None and self.session.breaker.reason is None:
                    with contextlib.suppress(Exception):
                        self.session.sweep()
            finally:
                support.bind_session(None)
                self._stack.close()
            if stop is None and exitstatus == pytest.ExitCode.INTERNAL_ERROR:
                stop = runstop.RunStopped(
                    f"the test runner crashed: {self.internal_error or 'pytest internal error'}",
                    runstop.EXIT_CANNOT_RUN,
                )
            self.stop = stop
            for case in self.cases.values():
                if case.outcome:
                    continue
                case.outcome = "error"
                if stop is not None and case.nodeid == self.running:
                    case.message = f"not finished: {stop.reason} while it ran"
                elif stop is not None:
                    case.message = f"not run: {stop.reason}"
                elif self.config.getoption("exitfirst", False) or session.shouldstop:
                    case.message = "not run: the run stopped at the first failure (-x)"
                else:
                    case.message = "not run"
            report_dir = self.config.getoption("--csr-report-dir")
            if report_dir:
                self._write_report(report_dir)

    # -- per test ------------------------------------------------------------------

    def _case(self, item: pytest.Item) -> CaseResult:
        case = self.cases.get(item.nodeid)
        if case is None:
            fn = getattr(item, "function", None)
            rules = case_rules(item, support.rules_of(fn))
            module = getattr(getattr(item, "module", None), "__name__", "")
            concern = concern_of(module, item.name, rules)
            case = CaseResult(
                name=item.name,
                classname=f"csr-conformance.{concern}",
                nodeid=item.nodeid,
                rules=rules,
                doc=_first_paragraph(getattr(fn, "__doc__", None) or ""),
                concern=concern,
            )
            self.cases[item.nodeid] = case
        return case

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """The live progress line: what finished, how, and how long it took."""
        if not self.config.getoption("--csr-progress"):
            return
        case = self.cases.get(nodeid)
        if case is None:
            return
        done = sum(1 for c in self.cases.values() if c.outcome)
        note = f"  {case.message[:120]}" if case.outcome in ("skipped", "error") else ""
        print(
            f"[{done:>3}/{len(self.cases)}] {case.concern:<13} {case.outcome or '?':<7} "
            f"{case.name} ({case.seconds:.1f}s){note}",
            flush=True,
        )

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.running = item.nodeid
        support.set_current_test(item.nodeid)
        repro = self.reproduce.get(item.nodeid)
        fn = getattr(item, "obj", None)
        # @given's wrapper, or the state machines the test runs: run_state_machine_as_test
        # copies a @reproduce_failure from its machine class onto the test it builds.
        targets: list[Any] = [fn] if hasattr(fn, "hypothesis") else []
        for target in targets + _state_machines(item):
            # Parametrised cases share one function: set (or clear) the example per item.
            with contextlib.suppress(AttributeError, TypeError):
                target._hypothesis_internal_use_reproduce_failure = None
            if repro is not None:
                from hypothesis import reproduce_failure

                reproduce_failure(repro[0], repro[1])(target)
        if self.setup_error is not None:
            pytest.fail(f"target could not be started: {self.setup_error}", pytrace=False)
        if self.session is not None and self.session.breaker.reason is not None:
            pytest.fail(f"target unavailable: {self.session.breaker.reason}", pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Every oracle call of a property decides by the release the server is judged as."""
        version = self.session.kube_version if self.session is not None else NEWEST
        with deciding(version):
            return (yield)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "call" and self._expected_failure(item, call, report):
            return
        # Hypothesis would write a source patch into the user's working directory; the
        # report carries the minimal example instead.
        report.__dict__.pop("_hypothesis_failing_examples", None)
        case = self._case(item)
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
        stop = runstop.stopped()
        if stop is not None:
            # The stop surfaced as another error (e.g. the target went away first).
            case.outcome = "error"
            case.message = f"not finished: {stop.reason} while it ran"
            return
        text = report.longreprtext
        blob = BLOB.search(text)
        if blob is not None:
            case.reproduce = {"hypothesis": blob.group(1), "blob": blob.group(2)}
            text = BLOB_ADVICE.sub("", text)
            # The console shows the report's replay command, not Hypothesis's advice.
            _strip_advice(report)
        infra = call.excinfo is not None and (
            call.excinfo.errisinstance(TargetError) or report.when != "call"
        )
        breaker = self.session.breaker.reason if self.session is not None else None
        if self.setup_error is not None or breaker is not None:
            infra = True
        case.outcome = "error" if infra else "failed"
        raw = _message_line(call.excinfo.exconly() if call.excinfo else text)
        if breaker is not None:
            case.message = f"the server stopped answering: {breaker}"
        elif infra:
            case.message = raw
        else:
            case.message = failure_message(case, raw)
        if support.shrinking_cut_short(item.nodeid):
            text += (
                "\n\nShrinking stopped when its time budget was spent "
                "(--shrink-seconds / --shrink-budget): the example is the smallest found."
            )
        case.details = text
        case.transcript = support.pop_failed_transcript(item.nodeid) or ""
        case.replay = self._replay(item, case)
        if call.excinfo is not None:  # a watch failure carries its history for the picture
            from conformance.history import record_of

            case.watch_history = record_of(call.excinfo.value)

    def _findings(self) -> tuple[Any, ...]:
        from conformance.targets.controlplane import findings

        if self._loaded_findings is None:
            extra: tuple[Any, ...] = ()
            path = self.config.getoption("--csr-expected-failures")
            if path:
                try:
                    extra = findings.load_findings(path)
                except ValueError as e:
                    raise pytest.UsageError(str(e)) from None
            self._loaded_findings = (*findings.FINDINGS, *extra)
        return self._loaded_findings

    def _expected_failure(
        self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> bool:
        """A triaged finding's property: its failure is expected (reported as skipped,
        with the finding's id), its pass is a failure ("expected failure passed"), as
        pytest's strict xfail. True when the report was handled here."""
        from conformance.targets.controlplane.findings import expected_failure
        from conformance.targets.controlplane.kine import KINE_VERSION

        opt = self.config.getoption
        finding = expected_failure(
            item.name,
            opt("--csr-storage"),
            opt("--csr-kine-version") or KINE_VERSION,
            opt("--csr-watch-cache") == "on",
            self._findings(),
        )
        if finding is None or runstop.stopped() is not None:
            return False
        if report.failed and call.excinfo is not None:
            if call.excinfo.errisinstance(TargetError):
                return False
            raw = _message_line(call.excinfo.exconly())
            if not finding.matches(raw) and not finding.matches(report.longreprtext):
                return False  # a different failure than the one triaged: not masked
            report.__dict__.pop("_hypothesis_failing_examples", None)
            report.outcome = "skipped"
            report.wasxfail = f"{finding.id}: {finding.title}"
            case = self._case(item)
            case.seconds += report.duration
            case.outcome = "skipped"
            case.message = f"expected failure {finding.id} ({finding.title}): {raw}"
            case.details = report.longreprtext
            case.transcript = support.pop_failed_transcript(item.nodeid) or ""
            return True
        if report.passed and not finding.strict:
            # A race: this run did not hit it. Say so, without failing the run.
            case = self._case(item)
            case.seconds += report.duration
            case.outcome = "passed"
            case.message = (
                f"expected failure passed: finding {finding.id} ({finding.title}) did not show "
                "in this run; it is a race, so this is reported but does not fail the run"
            )
            return True
        if report.passed:
            report.outcome = "failed"
            why = (
                f"expected failure passed: finding {finding.id} ({finding.title}) no longer "
                "reproduces; remove it from the findings or narrow the releases it names"
            )
            report.longrepr = f"[XPASS(strict)] {why}"
            case = self._case(item)
            case.seconds += report.duration
            case.outcome = "failed"
            case.message = why
            case.replay = self._replay(item, case)
            return True
        return False

    def _replay(self, item: pytest.Item, case: CaseResult) -> str:
        report_dir = self.config.getoption("--csr-report-dir")
        # A stored blob replays through @given's own wrapper, or through the state machine
        # a test runs (run_state_machine_as_test takes @reproduce_failure from its class).
        replayable = hasattr(getattr(item, "obj", None), "hypothesis") or _state_machines(item)
        if case.reproduce and report_dir and replayable:
            return replay_command(report_dir, item.nodeid)
        base = self.config.getoption("--csr-replay") or f"{cli_command()} run"
        seed = self.config.getoption("--csr-seed")
        seed_part = f" --seed {seed}" if seed is not None and "--seed" not in base else ""
        return f"{base}{seed_part} -k {shlex.quote(item.name.split('[')[0])}"

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
            "budget.max-time": self.config.getoption("--csr-max-time") or "none",
            "budget.shrink": f"{self.config.getoption('--csr-shrink-seconds'):g}s per failure, "
            f"{self.config.getoption('--csr-shrink-budget'):g}s per run",
            "faults": ",".join(
                self.config.getoption("--csr-fault") + self.config.getoption("--csr-fault-label")
            )
            or "none",
            "suite.version": suite_version(),
        }
        shard = self.config.getoption("--csr-shard", default=None)  # conformance.shards
        if shard:
            props["shard"] = shard
        if props["target.kind"] == "controlplane":
            storage = self.config.getoption("--csr-storage")
            if storage.startswith("kine-"):
                from conformance.targets.controlplane.kine import KINE_VERSION

                storage += f" (kine {self.config.getoption('--csr-kine-version') or KINE_VERSION})"
            props["storage"] = storage
            props["watch-cache"] = self.config.getoption("--csr-watch-cache")
        if self.session is not None:
            props["run-id"] = self.session.run_id
            props["server.version"] = self.session.server_version or "unknown"
            props["kubernetes.judged-as"] = self.session.kube.summary()
            if not self.session.kube.verified:
                props["verdict.scope"] = UNVERIFIED
            t = self.session.transcript
            props["http.requests"] = str(t.requests)
            props["http.seconds"] = f"{t.request_seconds:.2f}"
        cases = list(self.cases.values())
        if self.stop is not None and not cases:  # stopped before collection finished
            cases = [
                CaseResult(
                    name="run",
                    classname="csr-conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message=f"not run: {self.stop.reason}",
                    concern="setup",
                )
            ]
        if self.setup_error is not None and not cases:
            cases = [
                CaseResult(
                    name="target",
                    classname="csr-conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message=self.setup_error,
                    concern="setup",
                )
            ]
        result = RunResult(
            cases=cases,
            properties=props,
            seconds=time.time() - self.started,
            setup_error=self.setup_error,
            stopped=self.stop.reason if self.stop is not None else None,
            stop_code=self.stop.code if self.stop is not None else None,
        )
        os.makedirs(report_dir, exist_ok=True)
        write_reports(result, report_dir)


@pytest.fixture(scope="session")
def csr_session() -> Session:
    """The run's Session, for properties that take it as a fixture."""
    return support.current_session()


BLOB = re.compile(r"@reproduce_failure\('([^']+)', b'([A-Za-z0-9+/=]+)'\)")
BLOB_ADVICE = re.compile(
    r"\n?You can reproduce this (?:test case|example) by temporarily adding "
    r"@reproduce_failure\([^)]*\) as a decorator on your test (?:function|case)\n?"
)


def _strip_advice(report: pytest.TestReport) -> None:
    """Remove Hypothesis's "add @reproduce_failure" advice from what pytest prints."""
    longrepr = report.longrepr
    chain = getattr(longrepr, "chain", None)
    for element in chain or ():
        crash = element[1]
        if crash is not None and hasattr(crash, "message"):
            crash.message = BLOB_ADVICE.sub("", crash.message)
        entries = getattr(element[0], "reprentries", ())
        for entry in entries:
            lines = getattr(entry, "lines", None)
            if isinstance(lines, list):
                lines[:] = [ln for ln in lines if "@reproduce_failure(" not in ln]
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and hasattr(crash, "message"):
        crash.message = BLOB_ADVICE.sub("", crash.message)


def _state_machines(item: pytest.Item) -> list[Any]:
    """The RuleBasedStateMachine classes of the item's module that its function names.

    A stateful property is a plain function calling ``run_state_machine_as_test(Machine)``;
    the machine, not the function, is where Hypothesis looks for ``@reproduce_failure``.
    """
    import inspect

    from hypothesis.stateful import RuleBasedStateMachine

    fn = getattr(item, "obj", None)
    module = getattr(item, "module", None)
    code = getattr(inspect.unwrap(fn) if callable(fn) else None, "__code__", None)
    if module is None or code is None:
        return []
    found = (getattr(module, name, None) for name in code.co_names)
    return [m for m in found if isinstance(m, type) and issubclass(m, RuleBasedStateMachine)]


def load_reproductions(path: str) -> dict[str, tuple[str, bytes]]:
    """nodeid -> (Hypothesis version, blob) from a report's results.json."""
    import json

    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out: dict[str, tuple[str, bytes]] = {}
    for case in data.get("cases", []):
        repro = case.get("reproduce")
        if isinstance(repro, dict) and case.get("nodeid"):
            out[case["nodeid"]] = (str(repro["hypothesis"]), str(repro["blob"]).encode())
    return out


def cli_command() -> str:
    """How to start the CLI so that the command works as printed, venv activated or not."""
    return f"{shlex.quote(sys.executable)} -m conformance.cli"


def replay_command(report_dir: str, nodeid: str) -> str:
    return shlex.join([*shlex.split(cli_command()), "replay", os.path.abspath(report_dir), nodeid])


def suite_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csr-conformance")
    except PackageNotFoundError:
        return "unknown"


_EXAMPLE_MARKERS = ("Failing test case", "Falsifying example", "You can reproduce")


def _message_line(text: str, limit: int = 400) -> str:
    """An exception's message as one line: its own lines joined, Hypothesis's notes left out."""
    parts: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith(_EXAMPLE_MARKERS):
            break
        if line.strip():
            parts.append(line.strip())
    joined = "; ".join(parts).replace(":;", ":")
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


def _first_paragraph(doc: str) -> str:
    """A docstring's first paragraph as one line: what kube-apiserver does."""
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""
