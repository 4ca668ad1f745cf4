"""`_router.Action`: one object builds a component's custom_id, reads it back, and routes it
with the argument forms and the `shown` rule it defines."""

from __future__ import annotations

import pytest

from bot.core.services.answering import SelfRating
from bot.discord._actions import ANSWER, PICK, RATE, SUBMIT
from bot.discord._router import Action, Router, an_id


def test_an_action_builds_and_parses_its_custom_id() -> None:
    assert PICK.id(42, "B") == "dlq:pick:42:B"
    assert PICK.parse("dlq:pick:42:B") == ["42", "B"]
    assert RATE.parse(RATE.id(7, "good")) == ["7", "good"]


def test_an_action_reads_its_arguments_as_their_types() -> None:
    """Handlers get an `int` id and a `SelfRating`, not strings to convert themselves."""
    assert PICK.read("dlq:pick:42:B") == (42, "B")
    rated = RATE.read(RATE.id(7, SelfRating.GOOD))
    assert rated == (7, SelfRating.GOOD)
    assert rated is not None and type(rated[0]) is int and type(rated[1]) is SelfRating
    assert PICK.read("dlq:pick:042:B") is None  # the form is checked before converting
    assert RATE.read("dlq:rate:7:great") is None


@pytest.mark.parametrize(
    "value",
    [
        "dlq:pick:42:AB",  # not an option letter
        "dlq:pick:042:B",  # not an id as we write them
        "dlq:pick:42",  # an argument missing
        "dlq:answer:42",  # another action's id
        "xyz:pick:42:B",  # not ours
    ],
)
def test_a_custom_id_of_the_wrong_form_is_not_read(value: str) -> None:
    assert PICK.parse(value) is None


def test_building_with_the_wrong_number_of_arguments_is_a_bug() -> None:
    with pytest.raises(ValueError):
        PICK.id(42)


async def test_the_router_routes_an_action_once_with_its_rules() -> None:
    router = Router()
    calls: list[tuple[object, ...]] = []

    async def handler(interaction: object, *args: object) -> None:
        calls.append(args)

    router.on(ANSWER, handler)
    router.on(SUBMIT, handler)
    with pytest.raises(ValueError):
        router.on(ANSWER, handler)  # an action has one handler
    assert router.resolve("dlq:answer:5") is not None
    assert router.resolve("dlq:answer:5:6") is None  # arity from the action
    loose = Action("loose", (an_id,), shown=False)
    router.on(loose, handler)
    resolved = router.resolve(loose.id(9))
    assert resolved is not None
    route, args = resolved
    await route(object(), args)  # type: ignore[arg-type]  # no message check: shown=False
    assert calls == [(9,)]  # the handler gets the argument's value
