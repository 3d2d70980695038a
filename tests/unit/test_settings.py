from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from ascn.cli import main
from ascn.errors import InvalidSetting
from ascn.settings import Settings


def test_every_setting_has_a_default_and_help() -> None:
    for field in dataclasses.fields(Settings):
        assert field.default is not dataclasses.MISSING, field.name
        assert len(Settings.help_of(field.name)) > 10, field.name


def test_the_defaults_serve_sqlite_on_localhost() -> None:
    settings = Settings.load({}, environ={})
    assert (settings.host, settings.port, settings.store, settings.open) == (
        "127.0.0.1",
        1026,
        "sqlite:///data/ascn.db",
        False,
    )


def test_flags_win_over_variables_which_win_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "ascn.toml"
    config.write_text('port = 2000\nhost = "0.0.0.0"\nstore = "sqlite:///file.db"\n')
    environ = {"ASCN_PORT": "3000", "ASCN_STORE": "sqlite:///env.db", "ASCN_OPEN": "yes"}
    settings = Settings.load({"port": 4000, "host": None}, environ=environ, config_file=config)
    assert settings.port == 4000
    assert settings.store == "sqlite:///env.db"
    assert settings.host == "0.0.0.0"
    assert settings.open is True


def test_the_config_file_can_come_from_a_variable(tmp_path: Path) -> None:
    config = tmp_path / "ascn.toml"
    config.write_text("max_batch = 7\n")
    assert Settings.load({}, environ={"ASCN_CONFIG": str(config)}).max_batch == 7


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASCN_PORT": "http"}, "'port'"),
        ({"ASCN_OPEN": "maybe"}, "'open'"),
        ({"ASCN_CONTEXT_FETCH_TIMEOUT": "soon"}, "'context_fetch_timeout'"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSetting, match=message):
        Settings.load({}, environ=environ)


def test_an_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ascn.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(InvalidSetting, match="colour"):
        Settings.load({}, environ={}, config_file=config)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_serve_offers_a_flag_per_setting_with_its_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for field in dataclasses.fields(Settings):
        assert "--" + field.name.replace("_", "-") in text
        assert f"ASCN_{field.name.upper()}" in text


def test_serve_refuses_a_bad_setting_before_starting() -> None:
    result = CliRunner().invoke(main, ["serve", "--store", "mysql://x"], env={})
    assert result.exit_code != 0
    assert "unsupported store URL" in result.output
