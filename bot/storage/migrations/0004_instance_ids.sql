-- Question instance ids handed out in blocks: the bot reserves a block here (one short write)
-- and then numbers the questions it posts from memory, so a question is shown to the user
-- before its row is written (the row follows the reply; see `Postings.post` in
-- bot/core/services/posting.py). Every writer of question_instances takes its ids from this
-- counter, so two processes on one database never hand out the same id.
CREATE TABLE id_counters (
    name        TEXT PRIMARY KEY,
    next_id     INTEGER NOT NULL
);
INSERT INTO id_counters (name, next_id)
    SELECT 'question_instances', COALESCE(MAX(id), 0) + 1 FROM question_instances;
