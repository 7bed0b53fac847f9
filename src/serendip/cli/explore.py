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
            help="Interface to bind; the default serves this machine only. "
            "Use 0.0.0.0 only on a trusted network: the app has no login.",
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
            from serendip.app.server import create_app

            with console.status(f"loading {run_dir} ..."):
                loopback = ["127.0.0.1", "localhost", "::1", "[::1]"]
                hosts = ["*"] if host in ("0.0.0.0", "::") else sorted({*loopback, host})
                application = create_app(run_dir, strategy=strategy, allowed_hosts=hosts)
        import uvicorn

        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{shown_host}:{port}/"
        data = application.state.explorer.data
        console.print(
            f"[bold green]serendip explore[/] {data.n} sources ({data.kind}) at [bold]{url}[/]"
            "  (Ctrl+C to stop)"
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
