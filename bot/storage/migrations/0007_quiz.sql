-- Quiz rounds (issue #17; bot/core/quiz.py): a timed game in a channel. A round, the questions
-- it asked (each a posted question instance, so answers also count as attempts) and each
-- user's first answer to each. A round lives here, so it survives a restart of the bot.
CREATE TABLE quiz_rounds (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,               -- the host's platform: which front end runs it
    channel_id  TEXT NOT NULL,
    server_id   INTEGER REFERENCES servers (id) ON DELETE CASCADE,
    host_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lang        TEXT NOT NULL,
    settings    TEXT NOT NULL,               -- QuizSettings as JSON
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'stopped')),
    current     INTEGER NOT NULL DEFAULT -1, -- index of the question asked last
    created_at  TEXT NOT NULL,
    ended_at    TEXT
);
-- One running round per channel, even when two processes start one at the same moment.
CREATE UNIQUE INDEX quiz_rounds_running ON quiz_rounds (channel_id) WHERE status = 'running';

CREATE TABLE quiz_questions (
    round_id    INTEGER NOT NULL REFERENCES quiz_rounds (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    instance_id INTEGER NOT NULL UNIQUE REFERENCES question_instances (id) ON DELETE CASCADE,
    ref         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('mcq', 'numeric')),
    difficulty  TEXT NOT NULL,
    options     INTEGER NOT NULL DEFAULT 0,
    posted_at   TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    message_id  TEXT,
    revealed_at TEXT,
    PRIMARY KEY (round_id, idx)
);

-- A user's answer to a question of a round: the first one (the primary key refuses another).
CREATE TABLE quiz_answers (
    round_id    INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    answer      TEXT NOT NULL,
    choice      TEXT,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    points      INTEGER NOT NULL,
    answered_at TEXT NOT NULL,
    elapsed_ms  INTEGER NOT NULL,
    PRIMARY KEY (round_id, idx, user_id),
    FOREIGN KEY (round_id, idx) REFERENCES quiz_questions (round_id, idx) ON DELETE CASCADE
);
