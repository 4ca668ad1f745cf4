"""The buttons and the modal of a posted question, each defined once (see `_router.Action`):
`_render` builds them, `ext/questions` handles them."""

from __future__ import annotations

from bot.core.models import LETTERS
from bot.core.services.answering import SelfRating
from bot.discord._router import Action, an_id, one_of

#: An option of a multiple-choice question: (question instance, letter).
PICK = Action("pick", (an_id, one_of(LETTERS)))
#: The Answer button of a numeric question: (question instance,).
ANSWER = Action("answer", (an_id,))
#: The modal that Answer button opens; it must come from a message carrying that button.
SUBMIT = Action("submit", (an_id,), shown=ANSWER)
#: The Answer button of an open question: (question instance,); opens a paragraph modal.
OPEN_ANSWER = Action("oanswer", (an_id,))
#: The modal that button opens; its answer is checked against the key points.
OPEN_SUBMIT = Action("osubmit", (an_id,), shown=OPEN_ANSWER)
#: Show model answer, on an open question: (question instance,).
REVEAL = Action("reveal", (an_id,))
#: A self-rating after the model answer: (question instance, rating).
RATE = Action("rate", (an_id, one_of(SelfRating)))
