"""``csr-conformance``: run the suite, serve the fake, list faults and rules.

Exit codes are the contract CI relies on: 0 conformant, 1 not conformant, 2 could not
run (bad usage, unreachable server, unusable kubeconfig, credentials refused, a server
that is not a Kubernetes API), 3 the run's time budget (``--max-time``) was spent,
130 interrupted (SIGINT), 143 terminated (SIGTERM). Every exit other than 0 and 1 prints
one line on stderr; ``run`` always writes its report, with what finished and what did
not, and deletes what it created. Bad input is refused before any work is done.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import tempfile
import time
import typing
from collections.abc import Sequence

from conformance import runstop
from conformance.client import Client, Connection, TargetError, Transcript
from conformance.identities import ADMIN, APPROVER, SIGNER, USER
from conformance.oracle.versions import MATRIX, KubeVersion
from conformance.runstop import (
    EXIT_BUDGET,
    EXIT_CANNOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_NONCONFORMANT,
    EXIT_OK,
    EXIT_TERMINATED,
)
from conformance.targets import TargetEnv, TargetSpec, TargetStartError, fake_release, open_target

if typing.TYPE_CHECKING:
    from reports.model import RunResult

__all__ = [
    "EXIT_BUDGET",
    "EXIT_CANNOT_RUN",
    "EXIT_INTERRUPTED",
    "EXIT_NONCONFORMANT",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "main",
]

DEFAULT_REPORT_DIR = "csr-conformance-report"
DEFAULT_MAX_TIME = "30m"


class CannotRun(Exception):
    """A one-line reason the run could not start."""


class _UsageError(Exception):
    """argparse refused the command line; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line instead of usage + exit."""

    def error(self, message: str) -> typing.NoReturn:
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str, *, zero_ok: bool) -> float:
    """A finite number of seconds, above 0 (or at least 0 with ``zero_ok``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value == float("inf") or not (value >= 0 if zero_ok else value > 0):
        wanted = "0 or more seconds" if zero_ok else "a positive number of seconds"
        raise argparse.ArgumentTypeError(f"must be {wanted}, not {text}")
    return value


def _positive_float(text: str) -> float:
    return _seconds(text, zero_ok=False)


def _non_negative_float(text: str) -> float:
    return _seconds(text, zero_ok=True)


def _duration(text: str) -> str:
    try:
        seconds = runstop.parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0, not {text!r}")
    return text


def _shard(text: str) -> str:
    from conformance.shards import parse_shard

    try:
        return str(parse_shard(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _jobs(text: str) -> int:
    if text == "auto":
        return max(1, os.cpu_count() or 1)
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number or auto, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0..65535 (0 picks a free port), not {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csr-conformance")
    except PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="csr-conformance",
        description="Property-based conformance suite for the Kubernetes CSR API.",
    )
    p.add_argument("--version", action="version", version=f"csr-conformance {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run the suite against a target (default: the embedded fake)")
    run.add_argument(
        "--target",
        choices=("fake", "controlplane", "kubeconfig"),
        default=None,
        help="fake (default), controlplane (real binaries), kubeconfig (any cluster)",
    )
    run.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig of the cluster to test")
    run.add_argument("--context", metavar="NAME", help="admin context (default: current)")
    run.add_argument("--user-context", metavar="NAME", help="context of an unprivileged user")
    run.add_argument(
        "--approver-context", metavar="NAME", help="context allowed to approve the scoped signer"
    )
    run.add_argument(
        "--signer-context", metavar="NAME", help="context allowed to sign for the scoped signer"
    )
    run.add_argument(
        "--assets",
        metavar="DIR",
        help="control-plane binaries (default: $KUBEBUILDER_ASSETS or the build cache)",
    )
    run.add_argument(
        "--watch-cache",
        choices=("on", "off"),
        default="on",
        help="control plane: kube-apiserver's watch cache (off serves lists and watches "
        "straight from etcd; default on, as kube-apiserver)",
    )
    run.add_argument(
        "--storage",
        choices=("etcd", "kine-sqlite", "kine-memory"),
        default="etcd",
        help="control plane: kube-apiserver's storage, etcd (default) or kine over SQLite "
        "or memory (built by ci/kine/build.sh)",
    )
    run.add_argument(
        "--kine-version",
        metavar="vX.Y.Z",
        default=None,
        help="control plane on kine: the kine release (default: the one ci/kine pins; "
        "build another with ci/kine/build.sh VERSION)",
    )
    run.add_argument(
        "--expected-failures",
        metavar="FILE",
        default=None,
        help="JSON list of triaged findings whose failures are reported as expected "
        "(kine's own are built in; see README 'kine')",
    )
    run.add_argument(
        "--kube-version",
        metavar="X.Y",
        default=None,
        help="judge the server as this Kubernetes release instead of what its /version "
        "says; the fake behaves as it and the control plane runs (and builds, once) its "
        "binaries (known: " + _known_versions() + ")",
    )
    run.add_argument("--profile", choices=("kube-apiserver", "portable"), default="kube-apiserver")
    run.add_argument(
        "--examples",
        type=_positive_int,
        default=25,
        metavar="N",
        help="Hypothesis examples per property (default 25)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="random seed (default: derandomized, the same examples every run)",
    )
    run.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR")
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="inject a named fault into the embedded fake (repeatable)",
    )
    run.add_argument("-k", dest="keyword", metavar="EXPR", help="only properties matching EXPR")
    run.add_argument(
        "--timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="per-request timeout (default 30)",
    )
    run.add_argument(
        "--shrink-seconds",
        type=_non_negative_float,
        default=30.0,
        metavar="N",
        help="time to spend shrinking each failure to a minimal example; "
        "0 reports the first failing example as found (default 30)",
    )
    run.add_argument(
        "--shrink-budget",
        type=_non_negative_float,
        default=300.0,
        metavar="N",
        help="time to spend shrinking all failures of the run together (default 300)",
    )
    run.add_argument(
        "--max-time",
        type=_duration,
        default=DEFAULT_MAX_TIME,
        metavar="DURATION",
        help="stop the whole run after this long (90s, 30m, 1h); what did not finish is "
        f"reported as not run, exit 3 (default {DEFAULT_MAX_TIME})",
    )
    run.add_argument("--http", action="store_true", help="serve the embedded fake over plain HTTP")
    _signer_arguments(run)
    run.add_argument(
        "--signer-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long a signer has to issue or fail an approved request (default 30; 5 on "
        "the embedded fake, whose reference signer answers in milliseconds)",
    )
    run.add_argument(
        "--allow-node-subjects",
        action="store_true",
        help="let the signer properties request system:node:* subjects on a real cluster "
        "(always allowed on the disposable fake and control plane)",
    )
    run.add_argument(
        "-x", "--exitfirst", action="store_true", help="stop at the first property that fails"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")
    run.add_argument(
        "--list",
        action="store_true",
        help="print the properties with their concerns and rule ids, and run nothing",
    )
    run.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="ID",
        help="only properties that check this rule (repeatable, or @FILE of ids)",
    )
    run.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="ID",
        help="leave out properties that check this rule or have this name (repeatable, or @FILE)",
    )
    run.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a line per property as it finishes: auto = only on a terminal, so CI logs "
        "stay quiet (default auto)",
    )
    run.add_argument(
        "--last-failed",
        metavar="REPORT_DIR",
        help="run only the properties that failed or errored in that report",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="K/N",
        help="run only shard K of N of the selected properties (one CI job each; "
        "`report --merge` combines their reports)",
    )
    run.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="run N shards side by side on this machine, each against its own embedded "
        "fake (or the same --kubeconfig cluster), and merge them into one report; "
        "auto = one per core (default 1: serial)",
    )

    replay = sub.add_parser(
        "replay",
        help="re-send exactly the failing examples of a report and print transcript and verdict",
    )
    replay.add_argument("source", metavar="REPORT_DIR", help="report directory of a failed run")
    replay.add_argument(
        "test", nargs="?", default=None, metavar="TEST", help="test id or name (default: all)"
    )
    replay.add_argument("--kubeconfig", metavar="PATH", help="replay against this cluster instead")
    replay.add_argument("--context", metavar="NAME", help="admin context of --kubeconfig")
    replay.add_argument("--user-context", metavar="NAME")
    replay.add_argument("--approver-context", metavar="NAME")
    replay.add_argument("--signer-context", metavar="NAME")
    replay.add_argument(
        "--report-dir",
        metavar="DIR",
        default=None,
        help="where the replay's own report goes (default: a new temporary directory)",
    )
    replay.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS")

    report = sub.add_parser(
        "report",
        help="render summary.md and junit.xml again from results.json, or merge shards",
    )
    report.add_argument("source", nargs="?", default=None, metavar="REPORT_DIR")
    report.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="SHARD_DIR",
        help="the report dirs of `run --shard K/N`: write one report of them all to "
        "--report-dir, with the serial run's verdict",
    )
    report.add_argument(
        "--report-dir",
        default=None,
        metavar="DIR",
        help=f"with --merge: where the merged report goes (default {DEFAULT_REPORT_DIR})",
    )

    serve = sub.add_parser("serve", help="run the embedded fake API server until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    serve.add_argument("--kubeconfig-out", metavar="PATH", help="write a kubeconfig here")
    serve.add_argument("--http", action="store_true", help="plain HTTP instead of TLS")
    serve.add_argument("--fault", action="append", default=[], metavar="NAME")
    _signer_arguments(serve)
    serve.add_argument(
        "--log-requests",
        action="store_true",
        help="print one line per request on stderr: method, path, user, status, time",
    )
    serve.add_argument(
        "--bookmark-seconds",
        type=_positive_float,
        default=60.0,
        metavar="S",
        help="how often a watch that allows bookmarks gets one (default 60, as kube-apiserver)",
    )
    serve.add_argument(
        "--kube-version",
        metavar="X.Y",
        default=None,
        help="behave as this Kubernetes release: /version, messages, validation "
        "(default: the newest known, " + _known_versions() + ")",
    )
    serve.add_argument(
        "--signer-ca-key",
        metavar="FILE",
        help="with --signer-ca: the CA's ECDSA key, so the reference signer issues from "
        "your CA (default: a fresh CA per server, its bundle path printed)",
    )

    sub.add_parser("faults", help="list the faults the embedded fake can inject")
    rules = sub.add_parser("rules", help="list the rules the oracle knows")
    rules.add_argument(
        "--markdown",
        action="store_true",
        help="a Markdown table of rules and the properties that check them (the README's)",
    )
    rules.add_argument(
        "--versions",
        action="store_true",
        help="the rules whose behaviour changed between the releases the oracle knows, "
        "and at which release (with --markdown: the README's table)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            args = _parser().parse_args(argv)
        except _UsageError as e:
            _usage_error_report(argv, str(e))
            raise CannotRun(str(e)) from None
        if args.command == "run":
            args.argv = argv  # `--jobs N` starts N shards of this same command
            return _list(args) if args.list else _run(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "report":
            return _report(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "faults":
            return _faults()
        if args.command == "rules":
            if args.versions:
                return _rules_by_version(markdown=args.markdown)
            return _rules(markdown=args.markdown)
        _parser().print_help()
        return EXIT_CANNOT_RUN
    except CannotRun as e:
        print(f"csr-conformance: {e}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except BrokenPipeError:
        # The reader went away (`csr-conformance rules | head -1`): say so once, quietly.
        _silence_stdout()
        print("csr-conformance: output closed by the reader", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except runstop.RunStopped as e:
        print(f"csr-conformance: {e.reason}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("csr-conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _usage_error_report(argv: Sequence[str], message: str) -> None:
    """For `run`, a bad command line still leaves a JUnit error where a report was asked."""
    if "run" not in argv:
        return
    report_dir = DEFAULT_REPORT_DIR
    for i, a in enumerate(argv):
        if a == "--report-dir" and i + 1 < len(argv):
            report_dir = argv[i + 1]
        elif a.startswith("--report-dir="):
            report_dir = a.split("=", 1)[1]
    if _report_dir_problem(os.path.abspath(report_dir)) is None:
        with contextlib.suppress(OSError):
            _write_error_report(os.path.abspath(report_dir), message, "?")


# -- faults / rules ---------------------------------------------------------------


def _faults() -> int:
    from conformance.targets.fake.faults import FAULTS

    width = max(len(n) for n in FAULTS)
    for name, fault in sorted(FAULTS.items()):
        print(f"{name:<{width}}  {fault.summary}")
    return EXIT_OK


def rule_checkers() -> dict[str, list[str]]:
    """Rule id -> the properties that name it (empty when none does)."""
    from conformance.oracle.csr.rules import RULES
    from conformance.properties.catalog import property_rules

    checkers: dict[str, list[str]] = {rid: [] for rid in RULES}
    for prop, rule_ids in sorted(property_rules().items()):
        for rid in rule_ids:
            checkers.setdefault(rid, []).append(prop)
    return checkers


def rules_markdown() -> str:
    """The rules × properties table, as the README shows it."""
    from conformance.oracle.csr.rules import RULES

    checkers = rule_checkers()
    lines = ["| rule | section | what holds | checked by |", "|---|---|---|---|"]
    for rid, rule in RULES.items():
        by = ", ".join(f"`{p}`" for p in checkers[rid]) or "**not checked**"
        lines.append(f"| `{rid}` | {rule.section} | {rule.summary} | {by} |")
    return "\n".join(lines) + "\n"


def versions_markdown() -> str:
    """The rules-by-version table, as the README shows it: one row per change."""
    from conformance.oracle.changes import CHANGES

    lines = [
        f"Releases the oracle knows: {', '.join(str(v) for v in MATRIX)}.",
        "",
        "| rules | changed in | before | from then on | upstream |",
        "|---|---|---|---|---|",
    ]
    for c in CHANGES:
        rules = ", ".join(f"`{r}`" for r in c.rules)
        lines.append(f"| {rules} | {c.since} | {c.before} | {c.after} | {c.upstream} |")
    return "\n".join(lines) + "\n"


def _rules_by_version(markdown: bool) -> int:
    from conformance.oracle.changes import CHANGES

    if markdown:
        print(versions_markdown(), end="")
        return EXIT_OK
    print(f"releases the oracle knows: {', '.join(str(v) for v in MATRIX)}")
    for c in CHANGES:
        print(f"{', '.join(c.rules)} changed in {c.since} ({c.key})")
        print(f"  before:  {c.before}")
        print(f"  since:   {c.after}")
        print(f"  upstream: {c.upstream}")
        print(f"  confirmed: {c.confirmed}")
    return EXIT_OK


def _rules(markdown: bool = False) -> int:
    from conformance.oracle.csr.rules import RULES

    try:
        checkers = rule_checkers()
    except Exception as e:  # a broken property module must not hide the rule list
        print(f"csr-conformance: properties could not be listed: {e}", file=sys.stderr)
        checkers = {rid: [] for rid in RULES}
    if markdown:
        print(rules_markdown(), end="")
        return EXIT_OK
    for rid, rule in RULES.items():
        by = ", ".join(checkers.get(rid, [])) or "NOT CHECKED by any property"
        print(f"{rid:<24} {rule.section:<7} {rule.summary}\n{'':<24} checked by: {by}")
    unchecked = [r for r in RULES if not checkers.get(r)]
    print(f"{len(RULES) - len(unchecked)} of {len(RULES)} rules checked by at least one property")
    return EXIT_OK


def _check_faults(names: Sequence[str]) -> None:
    if not names:
        return
    from conformance.targets.fake.faults import FAULTS

    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise CannotRun(f"unknown fault {', '.join(unknown)}; `csr-conformance faults` lists them")


# -- signers ----------------------------------------------------------------------

DEFAULT_SIGNER_TIMEOUT = 30.0
FAKE_SIGNER_TIMEOUT = 5.0


def _signer_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--signer",
        action="append",
        default=[],
        metavar="NAME",
        help="signer name for the signer properties (repeatable; on the fake, also served by "
        "its reference signer; default: the kubernetes.io signers on fake and controlplane)",
    )
    p.add_argument(
        "--signer-ca",
        metavar="FILE",
        help="PEM CA bundle the signer's certificates must verify to "
        "(default on fake and controlplane: the target's own signing CA)",
    )


def _check_signers(args: argparse.Namespace) -> None:
    """Refuse malformed signer names, unreadable CA files and bad deadlines up front."""
    for name in args.signer:
        from conformance.oracle.csr.signer import (
            validate_signer_name,  # only when used: slow import
        )

        errs = validate_signer_name(name)
        if errs:
            raise CannotRun(f"--signer {name!r} is not a valid signer name: {errs[0].detail}")
    key = getattr(args, "signer_ca_key", None)
    for flag, path in (("--signer-ca", args.signer_ca), ("--signer-ca-key", key)):
        if path is not None and not os.path.isfile(path):
            raise CannotRun(f"{flag} {path}: no such file")
    if args.signer_ca:
        from cryptography import x509

        try:
            with open(args.signer_ca, "rb") as f:
                x509.load_pem_x509_certificates(f.read())
        except (OSError, ValueError):
            raise CannotRun(f"--signer-ca {args.signer_ca}: not a PEM certificate bundle") from None
    timeout = getattr(args, "signer_timeout", None)
    if timeout is not None and not timeout > 0:
        raise CannotRun("--signer-timeout must be a positive number of seconds")


# -- serve ------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    _check_faults(args.fault)
    _check_signers(args)
    from conformance.targets.fake import FakeConfig, serve_forever
    from conformance.targets.fake.signing_ca import SignerConfig

    if bool(args.signer_ca) != bool(args.signer_ca_key):
        raise CannotRun("serve needs --signer-ca and --signer-ca-key together")
    signer = SignerConfig(
        names=tuple(dict.fromkeys((*SignerConfig().names, *args.signer))),
        ca_cert_file=args.signer_ca,
        ca_key_file=args.signer_ca_key,
    )
    try:
        serve_forever(
            FakeConfig(
                host=args.host,
                port=args.port,
                tls=not args.http,
                faults=frozenset(args.fault),
                signer=signer,
                bookmark_seconds=args.bookmark_seconds,
                log_requests=args.log_requests,
                kube_version=_fake_kube_version(args.kube_version),
            ),
            args.kubeconfig_out,
        )
    except ValueError as e:
        raise CannotRun(str(e).splitlines()[0]) from None
    except OSError as e:
        raise CannotRun(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from None
    return EXIT_OK


# -- run --------------------------------------------------------------------------


def _spec_from(args: argparse.Namespace) -> TargetSpec:
    kind = args.target or ("kubeconfig" if args.kubeconfig or args.context else "fake")
    if args.fault and kind != "fake":
        raise CannotRun("--fault applies only to the embedded fake target")
    _check_signers(args)
    if kind != "kubeconfig" and (args.kubeconfig or args.context or args.user_context):
        raise CannotRun(f"--kubeconfig/--context apply only to --target kubeconfig, not {kind}")
    contexts = {
        role: value
        for role, value in (
            (ADMIN, args.context),
            (USER, args.user_context),
            (APPROVER, args.approver_context),
            (SIGNER, args.signer_context),
        )
        if value
    }
    _check_faults(args.fault)
    if kind != "controlplane" and (args.storage != "etcd" or args.kine_version):
        raise CannotRun(f"--storage/--kine-version apply only to --target controlplane, not {kind}")
    if args.kine_version and not args.storage.startswith("kine-"):
        raise CannotRun("--kine-version applies only with --storage kine-sqlite or kine-memory")
    if args.kine_version:
        from conformance.targets.controlplane.kine import check_version

        try:
            check_version(args.kine_version)
        except ValueError as e:
            raise CannotRun(str(e)) from None
    if args.expected_failures:
        from conformance.targets.controlplane.findings import load_findings

        try:
            load_findings(args.expected_failures)
        except ValueError as e:
            raise CannotRun(str(e)) from None
    if args.kube_version:
        _check_kube_version(args.kube_version, kind, args.assets)
    if kind == "kubeconfig":
        _check_contexts(args.kubeconfig, contexts)
    return TargetSpec(
        kind=kind,
        kubeconfig=args.kubeconfig,
        contexts=contexts,
        assets=args.assets,
        faults=tuple(args.fault),
        http=args.http,
        signers=tuple(args.signer),
        watch_cache=args.watch_cache == "on",
        storage=args.storage,
        kine_version=args.kine_version,
        kube_version=args.kube_version,
    )


def _known_versions() -> str:
    return ", ".join(str(v) for v in MATRIX)


def _check_kube_version(option: str, kind: str, assets: str | None) -> None:
    """A malformed --kube-version, or a control plane of a release with no pinned
    binaries, is refused before anything starts."""
    try:
        KubeVersion.parse(option)
        if kind == "controlplane" and not assets:
            from conformance.targets.controlplane.assets import release_of

            release_of(option)
    except ValueError as e:
        raise CannotRun(f"--kube-version: {e}") from None


def _fake_kube_version(option: str | None) -> KubeVersion:
    try:
        return fake_release(option)
    except ValueError as e:
        raise CannotRun(f"--kube-version: {e}") from None


_ROLE_FLAGS = {
    ADMIN: "--context",
    USER: "--user-context",
    APPROVER: "--approver-context",
    SIGNER: "--signer-context",
}


def _check_contexts(kubeconfig: str | None, contexts: dict[str, str]) -> None:
    """Every context named for any role must exist in the kubeconfig, checked before work.

    Only the YAML is read here (no client library), so a typo is refused in well under a
    second; the full load, credentials and all, happens in the preflight.
    """
    import yaml

    if kubeconfig:
        paths = [kubeconfig]
    else:
        paths = (os.environ.get("KUBECONFIG") or "~/.kube/config").split(os.pathsep)
    docs: list[dict[str, typing.Any]] = []
    for raw in paths:
        path = os.path.expanduser(raw)
        if not path:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except FileNotFoundError:
            if kubeconfig:
                raise CannotRun(f"kubeconfig not found: {path}") from None
            continue
        except (OSError, yaml.YAMLError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CannotRun(f"cannot use kubeconfig {path}: {first}") from None
        if not isinstance(doc, dict):
            raise CannotRun(f"cannot use kubeconfig {path}: not a kubeconfig document")
        docs.append(doc)
    where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    if not docs:
        raise CannotRun(f"kubeconfig not found: {where}")
    names = {c.get("name") for d in docs for c in (d.get("contexts") or []) if isinstance(c, dict)}
    current = next((d.get("current-context") for d in docs if d.get("current-context")), None)
    for role in (ADMIN, USER, APPROVER, SIGNER):
        name = contexts.get(role) or (current if role == ADMIN else None)
        if role == ADMIN and not name:
            raise CannotRun(f"kubeconfig {where} has no current-context; name one with --context")
        if name is not None and name not in names:
            known = ", ".join(sorted(str(n) for n in names)) or "none"
            raise CannotRun(
                f"{_ROLE_FLAGS[role]} {name}: no such context in kubeconfig {where} "
                f"(it has: {known})"
            )


def _report_dir_problem(report_dir: str) -> str | None:
    """Why the report cannot be written there, or None when it can."""
    if os.path.exists(report_dir) and not os.path.isdir(report_dir):
        return f"--report-dir {report_dir} exists and is not a directory"
    try:
        os.makedirs(report_dir, exist_ok=True)
        probe = os.path.join(report_dir, ".csr-conformance-write-test")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("")
        os.remove(probe)
    except OSError as e:
        return f"--report-dir {report_dir} is not writable: {e.strerror or e}"
    return None


def preflight(env: TargetEnv, timeout: float) -> None:
    """Prove the admin context reaches a Kubernetes API that serves CSRs, or say why not."""
    conn = Connection.from_kubeconfig(env.kubeconfig, env.contexts.get(ADMIN) or None)
    client = Client(conn, ADMIN, Transcript(), timeout=min(timeout, 15.0))
    try:
        resp = client.request("GET", "/apis/certificates.k8s.io/v1")
    except TargetError as e:
        raise CannotRun(str(e)) from None
    if resp.status == 401:
        raise CannotRun(
            f"{conn.host} refused the credentials of context "
            f"{env.contexts.get(ADMIN) or '(current)'} (HTTP 401)"
        )
    if resp.status == 403:
        raise CannotRun(
            f"{conn.host}: context {env.contexts.get(ADMIN) or '(current)'} may not "
            "read API discovery (HTTP 403); the admin context needs cluster-admin"
        )
    if resp.status == 404:
        raise CannotRun(f"{conn.host} does not serve certificates.k8s.io/v1 (HTTP 404)")
    try:
        doc = json.loads(resp.body)
    except ValueError:
        doc = None
    if resp.status != 200 or not isinstance(doc, dict):
        raise CannotRun(
            f"{conn.host} is not answering like a Kubernetes API server "
            f"(GET /apis/certificates.k8s.io/v1 gave HTTP {resp.status}, "
            f"{resp.headers.get('content-type', 'no content-type')})"
        )
    names = {r.get("name") for r in doc.get("resources") or [] if isinstance(r, dict)}
    if "certificatesigningrequests" not in names:
        raise CannotRun(
            f"{conn.host} lists no certificatesigningrequests in certificates.k8s.io/v1"
        )


def _replay_prefix(args: argparse.Namespace) -> str:
    parts = [sys.executable, "-m", "conformance.cli", "run"]
    if args.target:
        parts += ["--target", args.target]
    for flag, value in (
        ("--kubeconfig", args.kubeconfig),
        ("--context", args.context),
        ("--user-context", args.user_context),
        ("--approver-context", args.approver_context),
        ("--signer-context", args.signer_context),
        ("--assets", args.assets),
        ("--seed", args.seed),
    ):
        if value is not None:
            parts += [flag, str(value)]
    if args.watch_cache != "on":
        parts += ["--watch-cache", args.watch_cache]
    if args.storage != "etcd":
        parts += ["--storage", args.storage]
    if args.kine_version:
        parts += ["--kine-version", args.kine_version]
    if args.profile != "kube-apiserver":
        parts += ["--profile", args.profile]
    if args.examples != 25:
        parts += ["--examples", str(args.examples)]
    for f in args.fault:
        parts += ["--fault", f]
    if args.http:
        parts.append("--http")
    for name in args.signer:
        parts += ["--signer", name]
    if args.signer_ca:
        parts += ["--signer-ca", os.path.abspath(args.signer_ca)]
    if args.signer_timeout is not None:
        parts += ["--signer-timeout", f"{args.signer_timeout:g}"]
    if args.allow_node_subjects:
        parts.append("--allow-node-subjects")
    return shlex.join(parts)


def _write_error_report(
    report_dir: str, message: str, target: str, shard: str | None = None
) -> None:
    from reports import write_reports
    from reports.model import CaseResult, RunResult

    properties = {"target": target}
    if shard:  # so `report --merge` names this shard as the one that could not run
        properties["shard"] = shard

    os.makedirs(report_dir, exist_ok=True)
    write_reports(
        RunResult(
            cases=[
                CaseResult(
                    name="target",
                    classname="csr-conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message=message,
                    concern="setup",
                )
            ],
            properties=properties,
            setup_error=message,
        ),
        report_dir,
    )


def _run(args: argparse.Namespace) -> int:
    report_dir = os.path.abspath(args.report_dir)
    problem = _report_dir_problem(report_dir)
    if problem is not None:
        raise CannotRun(problem)
    extra: list[str] = []
    try:
        spec = _spec_from(args)
        _check_selection(args)
        if args.last_failed:
            extra += ["--csr-nodeids", _last_failed(args.last_failed, report_dir)]
        if args.jobs > 1:
            _check_jobs(args, spec)
    except CannotRun as e:
        _write_error_report(report_dir, str(e), args.target or "?", args.shard)
        raise
    _write_invocation(args, report_dir)
    if args.jobs > 1:
        return _run_jobs(args, report_dir)
    started = time.monotonic()
    runstop.reset()
    runstop.install(runstop.parse_duration(args.max_time), args.max_time)
    try:
        try:
            with open_target(spec) as env:
                preflight(env, args.timeout)
                code = _run_pytest(args, env, report_dir, extra)
        except (TargetStartError, TargetError, CannotRun) as e:
            _write_error_report(report_dir, str(e), spec.kind, args.shard)
            raise CannotRun(str(e)) from None
        except runstop.RunStopped as e:
            # Stopped before the suite began (start-up, preflight): nothing to clean up.
            if not os.path.exists(os.path.join(report_dir, "results.json")):
                _write_error_report(report_dir, f"not run: {e.reason}", spec.kind, args.shard)
            raise
    finally:
        runstop.uninstall()
    _print_summary(report_dir, time.monotonic() - started)
    stop = runstop.stopped()
    if stop is not None and code == stop.code:
        print(f"csr-conformance: {stop.reason}", file=sys.stderr)
    return code


def _run_pytest(
    args: argparse.Namespace, env: TargetEnv, report_dir: str, extra: Sequence[str] = ()
) -> int:
    import pytest

    pytest_args = [
        "--pyargs",
        "conformance.properties",
        "-p",
        "no:cacheprovider",
        "--csr-target",
        "kubeconfig",
        "--csr-target-label",
        env.description,
        "--csr-target-kind",
        env.kind,
        "--csr-profile",
        args.profile,
        "--csr-examples",
        str(args.examples),
        "--csr-report-dir",
        report_dir,
        "--csr-replay",
        _replay_prefix(args),
        "--csr-timeout",
        str(args.timeout),
        "--csr-shrink-seconds",
        str(args.shrink_seconds),
        "--csr-shrink-budget",
        str(args.shrink_budget),
        "--csr-max-time",
        args.max_time,
    ]
    if env.kubeconfig:
        pytest_args += ["--csr-kubeconfig", env.kubeconfig]
    for role, flag in (
        (ADMIN, "--csr-context"),
        (USER, "--csr-user-context"),
        (APPROVER, "--csr-approver-context"),
        (SIGNER, "--csr-signer-context"),
    ):
        if env.contexts.get(role):
            pytest_args += [flag, env.contexts[role]]
    for fault in env.faults:
        pytest_args += ["--csr-fault-label", fault]
    for name in args.signer:
        pytest_args += ["--csr-signer", name]
    signer_ca = args.signer_ca or env.signer_ca
    if signer_ca:
        pytest_args += ["--csr-signer-ca", os.path.abspath(signer_ca)]
    signer_timeout = args.signer_timeout
    if signer_timeout is None:
        signer_timeout = FAKE_SIGNER_TIMEOUT if env.kind == "fake" else DEFAULT_SIGNER_TIMEOUT
    pytest_args += ["--csr-signer-timeout", str(signer_timeout)]
    if env.compaction:
        pytest_args += ["--csr-compaction", env.compaction]
    if args.kube_version:
        pytest_args += ["--csr-kube-version", args.kube_version]
    if env.kind == "controlplane":
        pytest_args += ["--csr-watch-cache", args.watch_cache, "--csr-storage", args.storage]
        if args.kine_version:
            pytest_args += ["--csr-kine-version", args.kine_version]
    if args.expected_failures:
        pytest_args += ["--csr-expected-failures", os.path.abspath(args.expected_failures)]
    if args.allow_node_subjects:
        pytest_args.append("--csr-allow-node-subjects")
    if args.seed is not None:
        pytest_args += ["--csr-seed", str(args.seed)]
    if args.keyword:
        pytest_args += ["-k", _at_file(args.keyword, " or ")]
    for rule in _expand(args.rule):
        pytest_args += ["--csr-rule", rule]
    for skip in _expand(args.skip):
        pytest_args += ["--csr-skip", skip]
    pytest_args += extra
    if getattr(args, "shard", None):
        pytest_args += ["-p", "conformance.shards", "--csr-shard", args.shard]
    if args.exitfirst:
        pytest_args.append("-x")
    pytest_args += (
        ["-q", "--tb=short", "-W", "ignore::DeprecationWarning"]
        if args.verbose
        else [
            "-p",
            "no:warnings",
            # The CLI prints its own summary (and progress lines when asked); pytest's
            # dots and tracebacks would only repeat it less readably.
            "-p",
            "no:terminal",
        ]
    )
    progress = getattr(args, "progress", "auto")
    if progress == "always" or (progress == "auto" and sys.stdout.isatty()):
        pytest_args.append("--csr-progress")
    for results_file in ("results.json", "junit.xml", "summary.md", "shard.json"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(report_dir, results_file))
    rc = int(pytest.main(pytest_args))
    results = os.path.join(report_dir, "results.json")
    verdict: dict[str, typing.Any] | None = None
    if os.path.exists(results):
        with open(results, encoding="utf-8") as f:
            verdict = json.load(f)
    if verdict is not None and verdict.get("stop_code") is not None:
        if runstop.stopped() is None:  # e.g. a crash of the runner: say it once
            print(f"csr-conformance: {verdict.get('stopped')}", file=sys.stderr)
        return int(verdict["stop_code"])
    stop = runstop.stopped()
    if stop is not None:
        raise stop
    if rc == 5:
        raise CannotRun(
            f"no property matched -k {args.keyword!r}"
            if args.keyword
            else "no properties were collected"
        )
    if rc in (2, 3, 4) or verdict is None:
        raise CannotRun(f"the test runner stopped before finishing (pytest exit {rc})")
    outcomes = [c["outcome"] for c in verdict["cases"]]
    if "failed" in outcomes:
        return EXIT_NONCONFORMANT
    errors = [c for c in verdict["cases"] if c["outcome"] == "error"]
    if errors:
        # One line that says why the verdict is missing, e.g. the server stopped answering.
        first = errors[0]["message"] or "an error"
        print(
            f"csr-conformance: {len(errors)} of {len(outcomes)} properties could not be "
            f"judged; first: {first[:300]}",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    return EXIT_OK


# -- selection ----------------------------------------------------------------------


def _read_list(path: str) -> list[str]:
    """Entries of an @file: one per line, '#' comments and blank lines ignored."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln.split("#", 1)[0].strip() for ln in f]
    except OSError as e:
        raise CannotRun(f"cannot read @{path}: {e.strerror or e}") from None
    return [ln for ln in lines if ln]


def _expand(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out += _read_list(v[1:]) if v.startswith("@") else [v]
    return out


def _at_file(expr: str, joiner: str) -> str:
    """`-k @file`: the file's lines joined into one expression."""
    if not expr.startswith("@"):
        return expr
    entries = _read_list(expr[1:])
    if not entries:
        raise CannotRun(f"-k {expr}: the file names no property")
    return joiner.join(f"({e})" for e in entries)


def _check_selection(args: argparse.Namespace) -> None:
    """Unknown rule ids and unreadable @files are refused before any work."""
    from conformance.oracle.csr.rules import RULES

    if args.keyword:
        _at_file(args.keyword, " or ")
    unknown = [r for r in _expand(args.rule) if r not in RULES]
    if unknown:
        raise CannotRun(f"--rule: unknown rule id {', '.join(unknown)}; `csr-conformance rules`")
    _expand(args.skip)


def _last_failed(source: str, report_dir: str) -> str:
    """A file of the test ids that failed or errored in ``source``'s results.json."""
    data = _load_results(source)
    ids = [
        c["nodeid"]
        for c in data.get("cases", [])
        if c.get("outcome") in ("failed", "error") and c.get("nodeid") not in (None, "", "setup")
    ]
    if not ids:
        raise CannotRun(f"--last-failed {source}: that report has no failed properties")
    fd, path = tempfile.mkstemp(prefix="csr-conformance-last-failed-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(ids) + "\n")
    return path


def _load_results(source: str) -> dict[str, typing.Any]:
    path = os.path.join(source, "results.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise CannotRun(f"{source} holds no results.json (not a csr-conformance report)") from None
    except (OSError, ValueError) as e:
        raise CannotRun(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise CannotRun(f"{path} is not a csr-conformance results.json")
    return data


def _list(args: argparse.Namespace) -> int:
    """`run --list`: properties, their concerns and rule ids; nothing is sent anywhere."""
    import importlib
    import pkgutil

    import conformance.properties as pkg
    from conformance.properties.support import rules_of
    from reports.concerns import concern_of

    _check_selection(args)
    wanted, skipped = set(_expand(args.rule)), set(_expand(args.skip))
    in_shard = _shard_filter(args.shard)
    rows: list[tuple[str, str, tuple[str, ...]]] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for name, fn in vars(module).items():
            if not (name.startswith("test_") and callable(fn)):
                continue
            rules = rules_of(fn)
            if wanted and not wanted & set(rules):
                continue
            if skipped & (set(rules) | {name}):
                continue
            if not in_shard(name):
                continue
            rows.append((concern_of(module.__name__, name, rules), name, rules))
    for concern, name, rules in sorted(rows):
        print(f"{concern:<14} {name}  [{', '.join(rules)}]")
    print(f"{len(rows)} properties" + (f" in shard {args.shard}" if args.shard else ""))
    return EXIT_OK


def _shard_filter(text: str | None) -> typing.Callable[[str], bool]:
    """Whether a property (by name) is in ``--shard K/N``: the placement the run uses."""
    if not text:
        return lambda name: True
    from conformance.shards import assign, catalogue, parse_shard, shard_of

    shard = parse_shard(text)
    placed = assign(catalogue(), shard.total)
    return lambda name: shard_of(name, shard.total, placed) == shard.index


# Options that say what was selected or how long to search: a replay sets its own.
_NOT_REPLAYED = frozenset(
    {
        "command",
        "keyword",
        "rule",
        "skip",
        "last_failed",
        "exitfirst",
        "verbose",
        "list",
        "report_dir",
        "shrink_seconds",
        "shrink_budget",
        "max_time",
        "shard",
        "jobs",
        "argv",
    }
)


def _write_invocation(args: argparse.Namespace, report_dir: str) -> None:
    """What `replay` needs to reach the same kind of target again (every other option)."""
    doc: dict[str, typing.Any] = {}
    for key, value in vars(args).items():
        if key in _NOT_REPLAYED:
            continue
        if isinstance(value, str) and key in (
            "kubeconfig",
            "assets",
            "signer_ca",
            "expected_failures",
        ):
            value = os.path.abspath(value)
        if value is None or isinstance(value, (str, int, float, bool, list)):
            doc[key] = value
    with open(os.path.join(report_dir, "invocation.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)


# -- replay / report ------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    """Re-send exactly the stored failing examples; never touches the source report."""
    source = os.path.abspath(args.source)
    data = _load_results(source)
    try:
        with open(os.path.join(source, "invocation.json"), encoding="utf-8") as f:
            inv: dict[str, typing.Any] = json.load(f)
    except (OSError, ValueError):
        inv = {}
    # Only failures whose report printed a replay command carry a replayable example.
    cases = [c for c in data["cases"] if c.get("reproduce") and " replay " in str(c.get("replay"))]
    if args.test:
        cases = [
            c
            for c in cases
            if args.test in (c.get("nodeid"), c.get("name"))
            or str(c.get("nodeid", "")).endswith(args.test)
            or str(c.get("name", "")).split("[")[0] == args.test
        ]
    if not cases:
        what = f" matching {args.test!r}" if args.test else ""
        raise CannotRun(f"{source} holds no stored failing example{what}")
    report_dir = os.path.abspath(
        args.report_dir or tempfile.mkdtemp(prefix="csr-conformance-replay-")
    )
    if report_dir == source:
        raise CannotRun("--report-dir must differ from the report being replayed")
    problem = _report_dir_problem(report_dir)
    if problem is not None:
        raise CannotRun(problem)
    selected = {
        "cases": [
            {"nodeid": c["nodeid"], "reproduce": c["reproduce"]} for c in cases if c.get("nodeid")
        ]
    }
    repro_path = os.path.join(report_dir, "reproduce.json")
    with open(repro_path, "w", encoding="utf-8") as f:
        json.dump(selected, f)
    other = bool(args.kubeconfig or args.context)
    run_args = _parser().parse_args(["run"])  # every option at its default ...
    for key, value in inv.items():  # ... then the original run's target and options
        if hasattr(run_args, key) and key not in _NOT_REPLAYED:
            setattr(run_args, key, value)
    if other:
        run_args.target = "kubeconfig"
        run_args.fault, run_args.http, run_args.assets = [], False, None
        run_args.storage, run_args.kine_version = "etcd", None
        for key in ("kubeconfig", "context", "user_context", "approver_context"):
            setattr(run_args, key, getattr(args, key))
        run_args.signer_context = args.signer_context
    run_args.timeout = args.timeout
    run_args.shrink_seconds = 0.0
    run_args.shrink_budget = 0.0
    run_args.max_time = "10m"
    spec = _spec_from(run_args)
    runstop.reset()
    runstop.install(runstop.parse_duration(run_args.max_time), run_args.max_time)
    try:
        with open_target(spec) as env:
            preflight(env, args.timeout)
            code = _run_pytest(run_args, env, report_dir, ["--csr-reproduce", repro_path])
    except (TargetStartError, TargetError) as e:
        raise CannotRun(str(e)) from None
    finally:
        runstop.uninstall()
    from reports.summary import from_json

    with open(os.path.join(report_dir, "results.json"), encoding="utf-8") as f:
        result = from_json(f.read())
    for case in result.cases:
        print(f"== {case.nodeid}")
        if case.transcript:
            print(case.transcript.rstrip())
        verdict = {
            "failed": "FAILS AGAIN",
            "passed": "PASSES NOW (did not reproduce)",
        }.get(case.outcome, case.outcome.upper())
        print(f"-- {verdict}: {case.message}" if case.message else f"-- {verdict}")
    print(f"replay report: {report_dir}")
    return code


def _report(args: argparse.Namespace) -> int:
    """Render summary.md and junit.xml again from results.json (e.g. after an upgrade)."""
    from reports import write_reports
    from reports.summary import console_lines, from_json

    if args.merge is not None:
        if args.source is not None:
            raise CannotRun("report: give REPORT_DIR or --merge SHARD_DIR..., not both")
        return merge_reports(args.merge, args.report_dir or DEFAULT_REPORT_DIR)
    if args.source is None:
        raise CannotRun("report: give a REPORT_DIR, or --merge SHARD_DIR... --report-dir OUT")
    if args.report_dir is not None:
        raise CannotRun("report: --report-dir applies only with --merge")
    source = os.path.abspath(args.source)
    _load_results(source)
    with open(os.path.join(source, "results.json"), encoding="utf-8") as f:
        result = from_json(f.read())
    if _report_dir_problem(source) is not None:
        raise CannotRun(f"cannot write into {source}")
    write_reports(result, source, step_summary=False)
    for line in console_lines(result):
        print(line)
    print(f"report: {os.path.join(source, 'report.html')} (and summary.md, junit.xml)")
    return EXIT_OK


def merge_reports(sources: Sequence[str], out: str, *, wall: float | None = None) -> int:
    """`report --merge`: one report of the shards' reports, and the exit code a serial run
    with that outcome would have had (2 when shards are missing)."""
    from reports import write_reports
    from reports.merge import MergeError, ShardReport, merge
    from reports.summary import console_lines, from_json, verdict

    out = os.path.abspath(out)
    shards: list[ShardReport] = []
    for source in sources:
        path = os.path.abspath(source)
        if path == out:
            raise CannotRun(f"--report-dir {out} is one of the shards being merged")
        data = _load_results(path)
        record: dict[str, typing.Any] | None = None
        with contextlib.suppress(FileNotFoundError):
            try:
                with open(os.path.join(path, "shard.json"), encoding="utf-8") as f:
                    record = json.load(f)
            except (OSError, ValueError) as e:
                raise CannotRun(f"cannot read {path}/shard.json: {e}") from None
        shards.append(ShardReport(source, from_json(json.dumps(data)), record))
    try:
        result = merge(shards)
    except MergeError as e:
        raise CannotRun(f"report --merge: {e}") from None
    problem = _report_dir_problem(out)
    if problem is not None:
        raise CannotRun(problem)
    write_reports(result, out)
    if wall is not None:  # `run --jobs`: the console says how long the user waited
        result.seconds = wall
    for line in console_lines(result):
        print(line)
    print(f"report: {os.path.join(out, 'report.html')} (and junit.xml, summary.md, results.json)")
    code = _merged_exit(result)
    if code not in (EXIT_OK, EXIT_NONCONFORMANT):  # one line says why, as `run` does
        print(f"csr-conformance: {result.stopped or verdict(result)}", file=sys.stderr)
    return code


def _merged_exit(result: RunResult) -> int:
    """The exit code a serial run with this outcome has."""
    if result.stop_code is not None:
        return int(result.stop_code)
    if result.setup_error is not None or result.properties.get("shards.missing"):
        return EXIT_CANNOT_RUN
    if result.count("failed"):
        return EXIT_NONCONFORMANT
    if result.count("error"):
        return EXIT_CANNOT_RUN
    return EXIT_OK


def _run_jobs(args: argparse.Namespace, report_dir: str) -> int:
    from conformance.jobs import run_jobs

    def merge(sources: Sequence[str], out: str) -> int:
        try:
            return merge_reports(sources, out, wall=time.monotonic() - started)
        except CannotRun as e:
            _write_error_report(out, str(e), args.target or "fake")
            raise

    started = time.monotonic()
    code = run_jobs(args.argv, args.jobs, report_dir, merge)
    if not os.path.exists(os.path.join(report_dir, "results.json")):
        _write_error_report(report_dir, "no shard wrote a report", args.target or "fake")
    return code


def _check_jobs(args: argparse.Namespace, spec: TargetSpec) -> None:
    """`--jobs N` runs N shards of this command side by side; what that cannot do is
    refused before any work."""
    if args.shard:
        raise CannotRun("--jobs and --shard cannot be combined (run each CI shard serially)")
    if spec.kind == "controlplane":
        raise CannotRun(
            "--jobs applies to the embedded fake and --target kubeconfig; a control plane "
            "per job is too heavy, so shard control-plane runs across CI jobs (--shard K/N)"
        )


def _print_summary(report_dir: str, seconds: float) -> None:
    from reports.summary import console_lines, from_json

    path = os.path.join(report_dir, "results.json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        result = from_json(f.read())
    result.seconds = seconds
    for line in console_lines(result):
        print(line)
    print(
        f"report: {os.path.join(report_dir, 'report.html')} "
        "(and junit.xml, summary.md, results.json)"
    )


if __name__ == "__main__":
    sys.exit(main())
