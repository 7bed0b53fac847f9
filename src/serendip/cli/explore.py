"""``serendip explore RUN_DIR``: the local web app over a run directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from serendip.cli._common import clear_errors, console


def register(app: typer.Typer) -> None:
    @app.command("explore")
    def explore_cmd(
        run_dir: Path = typer.Argument(
            ..., help="Run directory of `serendip run` / `serendip demo` (or `serendip classify`)."
        ),
        port: int = typer.Option(8765, "--port", "-p", help="TCP port to listen on."),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Interface to bind; the default serves this machine only. Any other "
            "(e.g. 0.0.0.0) needs --allow-remote.",
        ),
        allow_remote: bool = typer.Option(
            False,
            "--allow-remote",
            help="Allow --host beyond loopback: every request then needs the random access "
            "token in the printed URL (or $SERENDIP_EXPLORE_TOKEN when set).",
        ),
        allowed_host: list[str] = typer.Option(
            [],
            "--allowed-host",
            help="Extra Host header value to accept (repeatable; e.g. the name a proxy uses). "
            "Loopback names, this machine's name and --host are always accepted.",
        ),
        strategy: str = typer.Option(
            "default",
            "--strategy",
            help="Active-learning strategy for re-ranking (static, knn, aad, pine; "
            "default: the ranker's default).",
        ),
        no_browser: bool = typer.Option(
            False, "--no-browser", help="Do not open a web browser on the page."
        ),
    ) -> None:
        """See, select, compare and label candidates in the browser (embedding, source view,
        analogs, keyboard review with active learning, catalogue, export).

        Labels are written at once to RUN_DIR/explore/labels.sqlite.
        """
        with clear_errors():
            from serendip.app.review import available_strategies
            from serendip.errors import InputError

            if strategy != "default" and strategy not in available_strategies():
                raise InputError(
                    "--strategy", f"unknown strategy {strategy!r}; use {available_strategies()}"
                )
            from serendip.app.security import allowed_hosts, is_loopback, new_token
            from serendip.app.server import create_app

            remote = not is_loopback(host)
            if remote and not allow_remote:
                raise InputError(
                    "--host",
                    f"{host} serves this run to other machines; pass --allow-remote to do so "
                    "(every request then needs the access token printed here)",
                )
            token = (os.environ.get("SERENDIP_EXPLORE_TOKEN") or new_token()) if remote else None
            hosts = allowed_hosts(host, allowed_host)
            with console.status(f"loading {run_dir} ..."):
                application = create_app(
                    run_dir, strategy=strategy, allowed_hosts=hosts, token=token
                )
        import uvicorn

        urls = _urls(host, port, hosts, token)
        url = urls[0]
        data = application.state.explorer.data
        console.print(
            f"[bold green]serendip explore[/] {data.n} sources ({data.kind}) at [bold]{url}[/]"
            "  (Ctrl+C to stop)"
        )
        if remote:
            console.print(
                f"[bold yellow]warning:[/] listening on {host}:{port}, reachable from other "
                "machines; anyone with the token in this URL can read and write labels. "
                "Other addresses: " + ", ".join(urls[1:] or ["none"])
            )
        typer.echo(url)
        if not no_browser:
            import threading
            import webbrowser

            threading.Timer(1.0, lambda: webbrowser.open(url)).start()
        try:
            uvicorn.run(application, host=host, port=port, log_level="warning")
        except OSError as exc:  # e.g. port in use
            console.print(f"[bold red]error:[/] cannot listen on {host}:{port}: {exc}")
            raise typer.Exit(code=2) from None
        # Stopped (Ctrl+C). Every label is already committed; leave at once rather than let
        # interpreter shutdown wait on a background loader thread (events, torch import).
        application.state.explorer.labels.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _urls(host: str, port: int, hosts: list[str], token: str | None) -> list[str]:
    """The URLs the server answers on, the one to open first (with ``?token=`` when set)."""
    from serendip.app.security import LOOPBACK_HOSTS

    if host in ("0.0.0.0", "::", ""):
        names = [h for h in hosts if h not in LOOPBACK_HOSTS and h != "*"] + ["127.0.0.1"]
    else:
        names = [f"[{host}]" if ":" in host and not host.startswith("[") else host]
    query = f"?token={token}" if token else ""
    return [f"http://{n}:{port}/{query}" for n in names]
