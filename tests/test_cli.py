"""a2.cli: user errors and Ctrl-C are one line and an exit code; bugs keep their traceback."""

import pytest

from a2 import cli
from a2.errors import DataError


def _raises(exc):
    def main(argv):
        raise exc

    return main


def test_user_error_is_one_line_exit_2(capsys):
    assert cli.run(_raises(DataError("f.json is truncated", "restore it")), []) == 2
    assert capsys.readouterr().err == "error: f.json is truncated (restore it)\n"


def test_ctrl_c_exits_130(capsys):
    assert cli.run(_raises(KeyboardInterrupt()), []) == 130
    assert capsys.readouterr().err.startswith("error: interrupted")


def test_bugs_keep_their_traceback():
    with pytest.raises(ZeroDivisionError):
        cli.run(_raises(ZeroDivisionError("bug")), [])


def test_argument_errors_use_the_same_form(capsys):
    parser = cli.ArgumentParser(prog="prog")
    parser.add_argument("--n", type=int)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--n", "x"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: argument --n: invalid int value: 'x' (run prog --help for the options)\n"
