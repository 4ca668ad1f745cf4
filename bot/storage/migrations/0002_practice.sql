-- Spaced repetition, mock interviews, daily questions, and leaderboard totals.

-- One fsrs card per user and item (a bank question id, or `family:NAME` for generated ones).
CREATE TABLE review_cards (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    card        TEXT NOT NULL,              -- fsrs Card.to_dict() as JSON
    due         TEXT NOT NULL,              -- ISO-8601 UTC, copied out of the card for the index
    reviews     INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, item)
);
CREATE INDEX review_cards_due ON review_cards (user_id, due);

-- A mock interview's whole state, saved after every event (JSON of core.interview.Interview).
CREATE TABLE interviews (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server_id   INTEGER REFERENCES servers (id) ON DELETE SET NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'finished', 'stopped')),
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,  -- bumped by every save; a stale save is refused
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX interviews_user ON interviews (user_id, status);
CREATE INDEX interviews_active ON interviews (status) WHERE status = 'active';

-- The daily question of a server: where and when (HH:MM UTC), and the last day it was posted.
CREATE TABLE daily_settings (
    server_id   INTEGER PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
    channel_id  TEXT NOT NULL,
    time_utc    TEXT NOT NULL,               -- 'HH:MM'
    last_day    TEXT,                        -- 'YYYY-MM-DD' of the last daily question posted
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL
);
ALTER TABLE question_instances ADD COLUMN daily_day TEXT;  -- set on daily questions

-- Leaderboard totals, kept up to date in the same transaction as each attempt, so a board is
-- an index range scan instead of an aggregate over every attempt.
--   server_id: the server, or 0 for the global board
--   topic:     '*' (all), a topic id, or 'area:<id>'
--   period:    'all', 'w2026-48' (ISO week) or 'm2026-11'
CREATE TABLE score_totals (
    server_id   INTEGER NOT NULL,
    topic       TEXT NOT NULL,
    period      TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    points      INTEGER NOT NULL DEFAULT 0,
    answered    INTEGER NOT NULL DEFAULT 0,
    correct     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server_id, topic, period, user_id)
) WITHOUT ROWID;
-- The board's order: more points, more correct, fewer attempts, lower user id.
CREATE INDEX score_totals_rank
    ON score_totals (server_id, topic, period, points DESC, correct DESC, answered, user_id);
CREATE INDEX score_totals_user ON score_totals (user_id);

-- Back-fill the totals from the attempts already recorded (an upgrade from version 1).
INSERT INTO score_totals (server_id, topic, period, user_id, points, answered, correct)
WITH facts AS (
    SELECT a.user_id, a.points, a.correct, a.topic,
           CASE a.topic
            WHEN 'backprop' THEN 'area:basics'
            WHEN 'initialization' THEN 'area:basics'
            WHEN 'vanishing_gradients' THEN 'area:basics'
            WHEN 'activations' THEN 'area:basics'
            WHEN 'optimizers' THEN 'area:basics'
            WHEN 'overfitting' THEN 'area:basics'
            WHEN 'cnn_basics' THEN 'area:cnn'
            WHEN 'filter_size' THEN 'area:cnn'
            WHEN 'conv_output' THEN 'area:cnn'
            WHEN 'pooling' THEN 'area:cnn'
            WHEN 'cnn_models' THEN 'area:cnn'
            WHEN 'rnn_basics' THEN 'area:rnn'
            WHEN 'lstm_gru' THEN 'area:rnn'
            WHEN 'gradient_clipping' THEN 'area:rnn'
            WHEN 'word2vec' THEN 'area:rnn'
            WHEN 'gan_basics' THEN 'area:gan'
            WHEN 'optimal_discriminator' THEN 'area:gan'
            WHEN 'gan_training' THEN 'area:gan'
            WHEN 'gan_loss' THEN 'area:gan'
            WHEN 'gan_failures' THEN 'area:gan'
            WHEN 'wgan' THEN 'area:gan'
            ELSE 'area:other' END AS area,
           'w' || date(a.created_at, 'weekday 0', '-6 days') AS week,
           'm' || strftime('%Y-%m', a.created_at) AS month,
           a.server_id
    FROM attempts a
), scopes AS (
    SELECT user_id, points, correct, topic, area, week, month, 0 AS server_id FROM facts
    UNION ALL
    SELECT user_id, points, correct, topic, area, week, month, server_id FROM facts
    WHERE server_id IS NOT NULL
), topics AS (
    SELECT user_id, points, correct, week, month, server_id, '*' AS key FROM scopes
    UNION ALL SELECT user_id, points, correct, week, month, server_id, topic FROM scopes
    UNION ALL SELECT user_id, points, correct, week, month, server_id, area FROM scopes
), periods AS (
    SELECT user_id, points, correct, server_id, key, 'all' AS period FROM topics
    UNION ALL SELECT user_id, points, correct, server_id, key, week FROM topics
    UNION ALL SELECT user_id, points, correct, server_id, key, month FROM topics
)
SELECT server_id, key, period, user_id, SUM(points), COUNT(*), SUM(correct)
FROM periods GROUP BY server_id, key, period, user_id;
