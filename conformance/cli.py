"""``csr-conformance``: run the suite, serve the fake, list faults and rules.

Exit codes are the contract CI relies on: 0 conformant, 1 not conformant, 2 could not
run (bad usage, unreachable server, unusable kubeconfig, credentials refused, a server
that is not a Kubernetes API). Every "could not run" prints one line on stderr and, for
``run``, still writes a JUnit file with an error entry so CI shows why.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence

from conformance.client import Client, Connection, TargetError, Transcript
from conformance.identities import ADMIN, APPROVER, SIGNER, USER
from conformance.targets import TargetEnv, TargetSpec, TargetStartError, open_target

EXIT_OK, EXIT_NONCONFORMANT, EXIT_CANNOT_RUN = 0, 1, 2
DEFAULT_REPORT_DIR = "csr-conformance-report"


class CannotRun(Exception):
    """A one-line reason the run could not start."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="csr-conformance",
        description="Property-based conformance suite for the Kubernetes CSR API.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    run.add_argument("--profile", choices=("kube-apiserver", "portable"), default="kube-apiserver")
    run.add_argument(
        "--examples",
        type=int,
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
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="per-request timeout (default 30)",
    )
    run.add_argument(
        "--shrink-seconds",
        type=int,
        default=60,
        metavar="N",
        help="time to spend shrinking each failure to a minimal example; "
        "0 reports the first failing example as found (default 60)",
    )
    run.add_argument("--http", action="store_true", help="serve the embedded fake over plain HTTP")
    run.add_argument(
        "-x", "--exitfirst", action="store_true", help="stop at the first property that fails"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")

    serve = sub.add_parser("serve", help="run the embedded fake API server until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--kubeconfig-out", metavar="PATH", help="write a kubeconfig here")
    serve.add_argument("--http", action="store_true", help="plain HTTP instead of TLS")
    serve.add_argument("--fault", action="append", default=[], metavar="NAME")

    sub.add_parser("faults", help="list the faults the embedded fake can inject")
    sub.add_parser("rules", help="list the rules the oracle knows")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "faults":
            return _faults()
        if args.command == "rules":
            return _rules()
        _parser().print_help()
        return EXIT_CANNOT_RUN
    except CannotRun as e:
        print(f"csr-conformance: {e}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("csr-conformance: interrupted", file=sys.stderr)
        return 130


# -- faults / rules ---------------------------------------------------------------


def _faults() -> int:
    from conformance.targets.fake.faults import FAULTS

    width = max(len(n) for n in FAULTS)
    for name, fault in sorted(FAULTS.items()):
        print(f"{name:<{width}}  {fault.summary}")
    return EXIT_OK


def _rules() -> int:
    from conformance.spec.rules import RULES

    for rid, rule in RULES.items():
        print(f"{rid:<24} §{rule.section:<6} {rule.summary}")
    return EXIT_OK


def _check_faults(names: Sequence[str]) -> None:
    if not names:
        return
    from conformance.targets.fake.faults import FAULTS

    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise CannotRun(f"unknown fault {', '.join(unknown)}; `csr-conformance faults` lists them")


# -- serve ------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    _check_faults(args.fault)
    from conformance.targets.fake import FakeConfig, serve_forever

    try:
        serve_forever(
            FakeConfig(
                host=args.host, port=args.port, tls=not args.http, faults=frozenset(args.fault)
            ),
            args.kubeconfig_out,
        )
    except OSError as e:
        raise CannotRun(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from None
    return EXIT_OK


# -- run --------------------------------------------------------------------------


def _spec_from(args: argparse.Namespace) -> TargetSpec:
    kind = args.target or ("kubeconfig" if args.kubeconfig or args.context else "fake")
    if args.fault and kind != "fake":
        raise CannotRun("--fault applies only to the embedded fake target")
    if kind != "kubeconfig" and (args.kubeconfig or args.context or args.user_context):
        raise CannotRun(f"--kubeconfig/--context apply only to --target kubeconfig, not {kind}")
    if args.examples < 1:
        raise CannotRun("--examples must be at least 1")
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
    return TargetSpec(
        kind=kind,
        kubeconfig=args.kubeconfig,
        contexts=contexts,
        assets=args.assets,
        faults=tuple(args.fault),
        http=args.http,
    )


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
    parts = ["csr-conformance", "run"]
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
    if args.profile != "kube-apiserver":
        parts += ["--profile", args.profile]
    if args.examples != 25:
        parts += ["--examples", str(args.examples)]
    for f in args.fault:
        parts += ["--fault", f]
    if args.http:
        parts.append("--http")
    return shlex.join(parts)


def _write_error_report(report_dir: str, message: str, target: str) -> None:
    from reports import write_reports
    from reports.model import CaseResult, RunResult

    os.makedirs(report_dir, exist_ok=True)
    write_reports(
        RunResult(
            cases=[
                CaseResult(
                    name="target",
                    classname="conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message=message,
                )
            ],
            properties={"target": target},
            setup_error=message,
        ),
        report_dir,
    )


def _run(args: argparse.Namespace) -> int:
    report_dir = os.path.abspath(args.report_dir)
    try:
        spec = _spec_from(args)
    except CannotRun as e:
        _write_error_report(report_dir, str(e), args.target or "?")
        raise
    started = time.monotonic()
    try:
        with open_target(spec) as env:
            preflight(env, args.timeout)
            code = _run_pytest(args, env, report_dir)
    except (TargetStartError, TargetError, CannotRun) as e:
        _write_error_report(report_dir, str(e), spec.kind)
        raise CannotRun(str(e)) from None
    _print_summary(report_dir, time.monotonic() - started)
    return code


def _run_pytest(args: argparse.Namespace, env: TargetEnv, report_dir: str) -> int:
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
    if args.seed is not None:
        pytest_args += ["--csr-seed", str(args.seed)]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.exitfirst:
        pytest_args.append("-x")
    pytest_args += (
        ["-q", "--tb=short", "-W", "ignore::DeprecationWarning"]
        if args.verbose
        else [
            "-q",
            "--no-header",
            "--tb=line",
            "-p",
            "no:warnings",
        ]
    )
    rc = int(pytest.main(pytest_args))
    results = os.path.join(report_dir, "results.json")
    if rc == 5:
        raise CannotRun(
            f"no property matched -k {args.keyword!r}"
            if args.keyword
            else "no properties were collected"
        )
    if rc in (2, 3, 4) or not os.path.exists(results):
        raise CannotRun(f"the test runner stopped before finishing (pytest exit {rc})")
    with open(results, encoding="utf-8") as f:
        verdict = json.load(f)
    outcomes = [c["outcome"] for c in verdict["cases"]]
    if "failed" in outcomes:
        return EXIT_NONCONFORMANT
    if "error" in outcomes:
        return EXIT_CANNOT_RUN
    return EXIT_OK


def _print_summary(report_dir: str, seconds: float) -> None:
    from reports.model import CaseResult, RunResult
    from reports.summary import console_lines

    path = os.path.join(report_dir, "results.json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    result = RunResult(
        cases=[
            CaseResult(
                name=c["name"],
                classname="",
                nodeid="",
                rules=tuple(c["rules"]),
                outcome=c["outcome"],
                message=c["message"],
                replay=c["replay"],
            )
            for c in data["cases"]
        ],
        properties=data["properties"],
        seconds=seconds,
    )
    for line in console_lines(result):
        print(line)
    print(f"report: {os.path.join(report_dir, 'junit.xml')} (and summary.md, results.json)")


if __name__ == "__main__":
    sys.exit(main())
