"""The session options table: one source for the option parser, the signature, the typing and the
docs, each checked against it here."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import ortbind
from ortbind import _core
from ortbind.options import SESSION_OPTIONS, SessionOptions, markdown_table
from support import models


def test_the_typed_keywords_are_the_table() -> None:
    assert list(typing.get_type_hints(SessionOptions, include_extras=True)) == [o.name for o in SESSION_OPTIONS]


def test_the_signature_shows_every_option_with_its_default() -> None:
    parameters = inspect.signature(ortbind.Session).parameters
    assert list(parameters)[:2] == ["model", "env"]
    for option in SESSION_OPTIONS:
        assert parameters[option.name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[option.name].default == option.default
        assert parameters[option.name].annotation == option.annotation


def test_every_option_is_documented() -> None:
    for name, _default, annotation, doc in _core.SESSION_OPTIONS:
        assert annotation and len(doc) > 20, name


def test_an_unknown_option_is_a_type_error_naming_the_options() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'intra_threads'; its options are providers, "):
        ortbind.Session(models.add(), intra_threads=2)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("cpu_arena", 1, "cpu_arena must be True or False, not int"),
        ("intra_op_threads", 1.5, "intra_op_threads must be an int, not float"),
        ("intra_op_threads", True, "intra_op_threads must be an int, not bool"),
        ("optimization", 3, "optimization must be a str, not int"),
        ("config", ["a"], "config must be a mapping of config key to value, not list"),
        ("profile", 3, "profile prefix must be a path"),
    ],
)
def test_an_option_of_the_wrong_kind_is_refused_by_name(name: str, value: object, message: str) -> None:
    with pytest.raises(ortbind.KindError, match=message):
        ortbind.Session(models.add(), **{name: value})  # type: ignore[arg-type]


def test_options_left_as_none_are_not_given() -> None:
    session = ortbind.Session(models.add(), cpu_arena=None, providers=None, intra_op_threads=None)
    assert session._options == {}


def test_the_docs_reference_is_the_table() -> None:
    page = (Path(__file__).parent.parent / "docs" / "reference" / "options.md").read_text()
    start = page.index("-->\n", page.index("<!-- session-options")) + len("-->\n")
    assert page[start : page.index("<!-- /session-options -->")] == markdown_table()
