"""``voucher-service``: serve, worker, migrate, keys, create-admin, audit verify, ledger verify.

Start-up problems (bad settings, unreachable database, a database at another migration) print
one clear line and exit non-zero instead of a traceback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from voucher_service import migrations
from voucher_service.accounting.cli import app as ledger_app
from voucher_service.db import Database, create_engine
from voucher_service.keys.service import KeyRing
from voucher_service.logs import configure_logging
from voucher_service.settings import Settings

app = typer.Typer(help="Compute and model voucher service (算力券 / 模型券).", no_args_is_help=True)
keys_app = typer.Typer(help="Service signing keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(ledger_app, name="ledger")

AUTHORITY_ROLES = ["sysadmin", "program_admin", "reviewer", "finance", "auditor"]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"voucher-service: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """Settings from the environment, or one line naming what is wrong."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"VOUCHER_{'_'.join(map(str, err['loc'])).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        fail(f"invalid configuration: {problems}", 2)
    configure_logging(settings.log_level, json_lines=settings.json_logs)
    return settings


def _safe_url(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


async def _database_revision(settings: Settings) -> str | None:
    database = Database(create_engine(settings))
    try:
        return await migrations.current_revision(database.engine)
    finally:
        await database.dispose()


def check_database(settings: Settings, *, migrate: bool) -> None:
    """Fail clearly unless the database is reachable and at the code's migration."""
    try:
        revision = asyncio.run(_database_revision(settings))
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        fail(f"cannot reach the database {_safe_url(settings)}: {reason}")
    head = migrations.head_revision()
    if revision == head:
        return
    if migrate:
        migrations.upgrade(settings.resolved_database_url)
        return
    fail(
        f"the database {_safe_url(settings)} is at migration {revision or 'none'} but this "
        f"version needs {head}; run `voucher-service migrate` first"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes")] = 1,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="run the background worker in-process")
    ] = True,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="migrate the database first (default: only the embedded SQLite database)",
        ),
    ] = None,
) -> None:
    """Run the API (and, unless --no-worker, the background worker) in this process."""
    import uvicorn

    settings = load_settings()
    check_database(settings, migrate=settings.is_sqlite if migrate is None else migrate)
    KeyRing(settings.key_dir, settings.signing_key_file).ensure()
    typer.echo(f"voucher-service on http://{host}:{port} ({_safe_url(settings)})", err=True)
    if workers == 1:
        from voucher_service.app import create_app

        application = create_app(settings, embedded_worker=worker)
        uvicorn.run(application, host=host, port=port, log_config=None, proxy_headers=True)
        return
    os.environ["VOUCHER_EMBEDDED_WORKER"] = "true" if worker else "false"
    uvicorn.run(
        "voucher_service.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        # The supervisor kills a worker that does not answer its ping within this time; the
        # default 5 s is shorter than an import on a busy machine, which kills workers forever.
        timeout_worker_healthcheck=60,
    )


@app.command(name="worker")
def run_worker() -> None:
    """Run the background jobs alone (scale out by starting several)."""
    from voucher_service.worker.registry import JobContext
    from voucher_service.worker.runner import Worker

    settings = load_settings()
    check_database(settings, migrate=False)
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()

    async def main() -> None:
        database = Database(create_engine(settings))
        worker = Worker(JobContext(database, settings, keyring, Worker.make_id()))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        try:
            await worker.run()
        finally:
            await database.dispose()

    asyncio.run(main())


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Upgrade the database schema (to the newest migration by default)."""
    settings = load_settings()
    try:
        migrations.upgrade(settings.resolved_database_url, revision)
    except (OperationalError, DBAPIError, OSError) as exc:
        fail(f"migration failed on {_safe_url(settings)}: {getattr(exc, 'orig', exc)!s}")
    typer.echo(f"database {_safe_url(settings)} is at {revision}", err=True)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; the previous ones stay published in the JWKS."""
    settings = load_settings()
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()
    try:
        key = keyring.rotate()
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"new signing key {key.kid}; {len(keyring.keys)} key(s) published")


@keys_app.command("list")
def keys_list() -> None:
    """Show the published keys, the signing one first."""
    settings = load_settings()
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()
    for index, key in enumerate(keyring.keys):
        typer.echo(f"{key.kid}{'  (signing)' if index == 0 else ''}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="login e-mail")],
    name: Annotated[str, typer.Option(help="the person's name")] = "System administrator",
    role: Annotated[
        str, typer.Option(help="authority role: " + ", ".join(AUTHORITY_ROLES))
    ] = "sysadmin",
    organisation: Annotated[
        str, typer.Option(help="name of the authority, if it does not exist yet")
    ] = "主管部门 (Authority)",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create an authority user (a sysadmin by default) with a password."""
    from voucher_service.kit.problems import ProblemError
    from voucher_service.users.bootstrap import create_authority_user

    if role not in AUTHORITY_ROLES:
        fail(f"--role must be one of {', '.join(AUTHORITY_ROLES)}", 2)
    settings = load_settings()
    check_database(settings, migrate=settings.is_sqlite)
    password = _read_password(password_stdin)
    try:
        user = asyncio.run(
            create_authority_user(
                settings,
                email=email,
                name=name,
                role=role,
                password=password,
                organisation_name=organisation,
            )
        )
    except ProblemError as exc:
        fail(f"{exc.code}: {exc.detail}")
    typer.echo(f"created {user.role} {user.email} ({user.id})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every audit event's hash and the hash chain; exit 1 at the first break."""
    from voucher_service.users.bootstrap import verify_audit_chain

    settings = load_settings()
    check_database(settings, migrate=False)
    report = asyncio.run(verify_audit_chain(settings))
    if not report.ok:
        fail(f"audit chain broken: {report.problem} (event {report.event_id})")
    typer.echo(
        f"audit chain intact: {report.linked_checked} linked, "
        f"{report.unlinked_checked} awaiting linking, head {report.head_seq}"
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


from voucher_service.demo.command import demo as _demo  # noqa: E402 - appended registration

app.command("demo")(_demo)
