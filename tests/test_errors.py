"""a2.errors: the message reads '<what went wrong> (<how to fix it>)', and each class is also the builtin
exception callers may already catch."""

import pytest

from a2.errors import A2Error, DataError, OutputError, ResultsError, WeightsError


def test_message_and_parts():
    err = DataError("x.json is truncated", "restore it")
    assert str(err) == "x.json is truncated (restore it)"
    assert (err.what, err.fix) == ("x.json is truncated", "restore it")
    assert str(A2Error("only what")) == "only what"


@pytest.mark.parametrize("cls, builtin", [(DataError, ValueError), (WeightsError, ValueError),
                                          (ResultsError, ValueError), (OutputError, OSError)])
def test_each_class_is_an_a2error_and_its_builtin(cls, builtin):
    assert issubclass(cls, A2Error) and issubclass(cls, builtin)
