"""The core's services, each one job: `Catalog` (the questions there are), `Making` (questions
as shown), `Postings` (questions posted), `Answering` (grading and recording answers),
`Identities` (users, servers), `Dailies`, `Reviews` and `Boards` (scores). Each receives what
it needs (a store, the clock, another service); `bot.core.engine.Engine` wires them."""
