"""`python -m etl`: generate demo data, load a registry export, export indicator CSV.

Exit codes: 0 on success (rejected rows are not a failure), 1 on a fatal error with a
one-line reason on stderr, 2 on wrong usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from indicators import config
from indicators.scope import ROLES
from indicators.warehouse import SchemaError

SEXES = ("all", "F", "M", "U")
DISABILITIES = ("all", "yes", "no", "unknown")


class CliError(Exception):
    """A fatal error whose message is printed as the one-line reason."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"needs a whole number >= {minimum}: {text!r}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic registry export (demo data)")
    gen.add_argument("out_dir", type=Path)
    gen.add_argument("--children", type=_count(1), default=60_000)
    gen.add_argument("--seed", type=_count(0), default=1)
    gen.add_argument("--format", choices=("auto", "csv", "parquet"), default="auto")
    gen.add_argument("--as-of", type=_date, help="extract date (default 2026-06-30)")
    gen.add_argument(
        "--dhis2", action="store_true",
        help="also write a synthetic DHIS2 instance reporting these doses to OUT_DIR/dhis2",
    )  # fmt: skip

    load = sub.add_parser(
        "load", help="load a registry export or a folder of DHIS2 exports (replaces that source)"
    )
    what = load.add_mutually_exclusive_group(required=True)
    what.add_argument("--registry", type=Path, help="folder of the registry export")
    what.add_argument(
        "--dhis2", type=Path, metavar="DIR",
        help="folder of DHIS2 exports (metadata, data value sets, registrations) with mapping.yaml",
    )  # fmt: skip
    load.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="with --dhis2: the mapping (default DIR/mapping.yaml)",
    )
    load.add_argument("--db", help="warehouse URL (default: MIZAN_DB_URL or var/mizan.db)")
    load.add_argument(
        "--as-of", type=_date,
        help="overrides manifest.json and the data (DHIS2: the end of the last month with doses)",
    )  # fmt: skip
    load.add_argument("--report", type=Path, help="write the row accounting as JSON here")

    export = sub.add_parser("export", help="write indicator rows as CSV (spec/csv-export.md)")
    export.add_argument("out", help="output file, or - for standard output")
    export.add_argument("--db")
    export.add_argument("--indicator", nargs="+", metavar="CODE")
    export.add_argument("--period")
    export.add_argument("--org-unit")
    export.add_argument("--sex", choices=SEXES)
    export.add_argument("--disability", choices=DISABILITIES)

    users = sub.add_parser(
        "users", help="manage dashboard users (password read from stdin when it is not a terminal)"
    )
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--governorate", help="governorate p-code, for role governorate (IQG02)")
    for action in ("passwd", "disable", "enable"):
        users_sub.add_parser(action, help=f"{action} a user").add_argument("name")
    users_sub.add_parser("list", help="list users")
    for sub_parser in users_sub.choices.values():
        sub_parser.add_argument("--db")

    dhis2 = sub.add_parser(
        "dhis2-normalize", help="DHIS2 data value exports (JSON/XML/CSV/ADX) -> one long CSV"
    )
    dhis2.add_argument("files", nargs="+", type=Path, metavar="FILE")
    dhis2.add_argument(
        "--metadata", nargs="+", action="extend", type=Path, default=[], metavar="FILE",
        help="metadata exports (JSON, org-unit CSV) to resolve and check identifiers "
        "(list them after the data FILEs)",
    )  # fmt: skip
    dhis2.add_argument("--out", type=Path, required=True, help="the canonical CSV")
    dhis2.add_argument("--problems", type=Path, help="problems as CSV (default: standard error)")

    alerts = sub.add_parser(
        "alerts", help="print the active facility environment alerts as JSON (a list)"
    )
    alerts.add_argument("--db", help="warehouse URL (default: MIZAN_DB_URL or var/mizan.db)")
    alerts.add_argument("--governorate", metavar="IQGnn", help="only this governorate's alerts")

    demo = sub.add_parser("demo", help="generate and load demo data unless a warehouse exists")
    demo.add_argument("--db")
    demo.add_argument("--force", action="store_true", help="regenerate and reload anyway")
    return parser


def cmd_generate(args: argparse.Namespace) -> None:
    from etl.generate import generate

    summary = generate(
        args.out_dir, children=args.children, seed=args.seed, fmt=args.format, as_of=args.as_of,
        dhis2=args.dhis2,
    )  # fmt: skip
    print(json.dumps(summary, indent=2, default=str))


def cmd_load(args: argparse.Namespace) -> None:
    from etl.load import LOAD_STEPS, load_registry
    from etl.progress import Progress

    if args.mapping and not args.dhis2:
        raise CliError("--mapping goes with --dhis2")
    if args.dhis2:
        _load_dhis2(args)
        return
    result = load_registry(args.registry, args.db, args.as_of, Progress(LOAD_STEPS))
    extract = result.extract
    origin = {"data": " (latest date found in the files)"}.get(extract.as_of_origin, "")
    print(f"as of {extract.as_of}{origin}, source: {extract.source}")
    print(f"{'file':<14}{'read':>12}{'loaded':>12}{'rejected':>12}{'duplicates':>12}")
    for name, account in extract.accounts.items():
        print(
            f"{name:<14}{account.rows_read:>12,}{account.rows_loaded:>12,}"
            f"{account.rows_rejected:>12,}{account.duplicates:>12,}"
        )
    for name, columns in extract.ignored_columns.items():
        if columns:
            print(f"{name}: ignored unknown columns: {', '.join(columns)}")
    print(f"load run {result.run_id}: {result.indicator_rows:,} indicator rows published")
    if args.report:
        args.report.write_text(json.dumps(result.report(), indent=2, ensure_ascii=False))


def _load_dhis2(args: argparse.Namespace) -> None:
    from etl.dhis2.load import LOAD_STEPS, load_dhis2
    from etl.progress import Progress

    result = load_dhis2(args.dhis2, args.db, args.mapping, args.as_of, Progress(LOAD_STEPS))
    origin = {"data": " (end of the last month with dose values)"}.get(result.as_of_origin, "")
    print(f"as of {result.as_of}{origin}, mapping: {result.mapping}")
    print(f"{'file':<34}{'read':>10}{'loaded':>10}{'rejected':>10}{'used':>10}")
    for name, counts in result.accounting.items():
        if "rows_read" in counts:
            print(
                f"{name[-34:]:<34}{counts['rows_read']:>10,}{counts['rows_loaded']:>10,}"
                f"{counts['rows_rejected']:>10,}{counts.get('used', counts['rows_loaded']):>10,}"
            )
    for path, reason in result.files.ignored:
        print(f"ignored {path}: {reason}")
    rejected = [p for p in result.problems if p.outcome == "rejected"]
    for p in rejected[:20]:
        print(f"rejected {p.file} {p.position}: {p.code}: {p.reason}", file=sys.stderr)
    if len(rejected) > 20:
        print(f"... {len(rejected) - 20:,} more rejected records (see --report)", file=sys.stderr)
    rows = result.facility_rows
    facility = f", {rows:,} facility environment rows" if rows else ""
    print(f"load run {result.run_id}: {result.indicator_rows:,} indicator rows published{facility}")
    if args.report:
        args.report.write_text(json.dumps(result.report(), indent=2, ensure_ascii=False))


def cmd_export(args: argparse.Namespace) -> None:
    from indicators import catalogue
    from indicators.export import export_csv
    from indicators.scope import Scope

    unknown = sorted(set(args.indicator or ()) - set(catalogue.by_code()))
    if unknown:
        raise CliError(f"unknown indicator code(s): {', '.join(unknown)}")
    data, count = export_csv(
        Scope.national(),
        indicators=args.indicator,
        period=args.period,
        org_unit=args.org_unit,
        sex=args.sex,
        disability=args.disability,
        url=args.db,
    )
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.out).write_bytes(data)
        print(f"{count:,} rows written to {args.out}", file=sys.stderr)


def cmd_alerts(args: argparse.Namespace) -> None:
    """The alerts of `indicators.alerts` in their stable order, one JSON list on stdout."""
    from indicators import geography
    from indicators.alerts import alerts
    from indicators.scope import Scope

    scope = Scope.national()
    if args.governorate:
        if args.governorate not in geography.governorate_codes():
            raise CliError(f"unknown governorate code: {args.governorate!r} (e.g. IQG02)")
        scope = Scope("governorate", args.governorate)
    try:
        rows = alerts(scope, args.db).to_dicts()
    except ValueError as error:  # a threshold setting that is not a valid number
        raise CliError(str(error)) from error
    print(json.dumps(rows, indent=2, ensure_ascii=False))


def cmd_demo(args: argparse.Namespace) -> None:
    """Used by `make run`: first start generates and loads demo data, later starts reuse it."""
    from etl.dhis2.load import LOAD_STEPS as DHIS2_STEPS
    from etl.dhis2.load import load_dhis2
    from etl.generate import generate
    from etl.load import LOAD_STEPS, load_registry
    from etl.progress import Progress
    from indicators import accounts, queries

    if config.production():
        raise CliError("demo data and demo users are refused when MIZAN_ENV=production")
    if queries.data_version(args.db) and not args.force:
        print("warehouse already loaded; `python -m etl demo --force` reloads demo data")
    else:
        out = config.demo_dir()
        print(f"generating {config.demo_children():,} synthetic children in {out}")
        print(f"and a synthetic DHIS2 instance reporting their doses in {out / 'dhis2'}")
        generate(out, children=config.demo_children(), seed=1, fmt="csv", dhis2=True)
        result = load_registry(out, args.db, None, Progress(LOAD_STEPS))
        print(f"demo registry loaded (run {result.run_id}, as of {result.extract.as_of})")
        dhis2 = load_dhis2(out / "dhis2", args.db, progress=Progress(DHIS2_STEPS))
        print(f"demo DHIS2 data loaded (run {dhis2.run_id}, as of {dhis2.as_of})")
    accounts.ensure_demo_users(args.db, config.demo_password())
    names = ", ".join(name for name, _, _ in config.DEMO_USERS)
    print(
        f"WARNING: demo mode. Users {names} all have the password "
        f"'{config.demo_password()}' (MIZAN_DEMO_PASSWORD). Never use them in production.",
        file=sys.stderr,
    )


def _new_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("repeat: "):
        raise CliError("the passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> None:
    from indicators import accounts

    try:
        if args.action == "add":
            accounts.add_user(args.db, args.name, _new_password(), args.role, args.governorate)
        elif args.action == "passwd":
            accounts.set_password(args.db, args.name, _new_password())
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(args.db, args.name, args.action == "disable")
        else:
            print(accounts.list_users(args.db).write_csv(), end="")
            return
    except accounts.AccountError as error:
        raise CliError(str(error)) from error
    print(f"user {args.name}: {args.action} done")


def cmd_dhis2_normalize(args: argparse.Namespace) -> None:
    """Normalize DHIS2 exports; OUT is only written when every file could be read."""
    from etl.dhis2.metadata import read_metadata
    from etl.dhis2.normalize import normalize, write_table
    from etl.dhis2.problems import Dhis2Error, problems_frame

    try:
        metadata = read_metadata(args.metadata) if args.metadata else None
    except Dhis2Error as error:
        raise CliError(f"metadata {error}") from error
    result = normalize(args.files, metadata)
    for s in result.files:
        if s.error:
            print(f"{s.file}: FAILED: {s.error}")
        else:
            print(
                f"{s.file} ({s.kind}): {s.records:,} records, {s.rows:,} rows, "
                f"{s.numeric:,} numeric values, {s.rejected:,} rejected, {s.warnings:,} warnings"
            )
    problems = [*(metadata.problems if metadata else []), *result.problems]
    if args.problems:
        write_table(problems_frame(problems), args.problems)
    else:
        for p in problems[:100]:
            print(f"{p.file} {p.position}: {p.code} ({p.outcome}): {p.reason}", file=sys.stderr)
        if len(problems) > 100:
            print(f"... {len(problems) - 100:,} more problems (see --problems)", file=sys.stderr)
    if result.errors:
        more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
        raise CliError(f"{result.errors[0]}{more}; {args.out} not written")
    write_table(result.table, args.out)
    print(f"{result.table.height:,} rows written to {args.out}")


COMMANDS = {
    "generate": cmd_generate,
    "load": cmd_load,
    "export": cmd_export,
    "demo": cmd_demo,
    "users": cmd_users,
    "dhis2-normalize": cmd_dhis2_normalize,
    "alerts": cmd_alerts,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from etl.load import LoadError

    try:
        COMMANDS[args.command](args)
    except (CliError, LoadError, FileNotFoundError, PermissionError, SchemaError) as error:
        print(f"mizan: error: {error}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"mizan: error: warehouse: {cause}", file=sys.stderr)
        return 1
    return 0
