"""The `ascn` command: a thin layer over the node's services."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from ascn import __version__
from ascn.errors import InvalidSetting
from ascn.settings import Settings


def _setting_options(command: Any) -> Any:
    """One --flag per setting, its help taken from the setting itself."""
    for f in reversed(dataclasses.fields(Settings)):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} [env ASCN_{f.name.upper()}; default {f.default!r}]"
        if f.type in ("bool", bool):
            command = click.option(flag, f.name, is_flag=True, default=None, help=help_text)(
                command
            )
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            command = click.option(flag, f.name, type=kind, default=None, help=help_text)(command)
    return command


@click.group()
@click.version_option(__version__, prog_name="ascn")
def main() -> None:
    """ascn: the ASEAN Smart City Network node."""


@main.command()
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A TOML file of settings (ASCN_CONFIG).",
)
@_setting_options
def serve(config: str | None, **flags: Any) -> None:
    """Run the node's NGSI-LD API."""
    import uvicorn

    from ascn.api.app import create_app

    try:
        settings = Settings.load(flags, config_file=config)
        app = create_app(settings)
    except InvalidSetting as error:
        raise click.UsageError(error.detail) from None
    click.echo(
        f"ascn {__version__} serving NGSI-LD at http://{settings.host}:{settings.port}/ngsi-ld/v1"
        f" (store {settings.store})"
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=30,
    )
