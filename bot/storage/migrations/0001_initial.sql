-- Users, servers, posted questions, attempts (one per user per question) and streaks.
-- Times are ISO-8601 UTC strings ('2026-11-27T06:30:00.000000+00:00'), which sort correctly.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,              -- 'discord' | 'local'
    external_id TEXT NOT NULL,              -- the Discord user id, or the local name
    name        TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT 'auto' CHECK (language IN ('auto', 'en', 'zh')),
    created_at  TEXT NOT NULL,
    UNIQUE (platform, external_id)
);

CREATE TABLE servers (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (platform, external_id)
);

-- A question as posted: the bank id or FAMILY:SEED, where it was posted.
CREATE TABLE question_instances (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('mcq', 'open', 'numeric')),
    topic       TEXT NOT NULL,
    difficulty  TEXT NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
    server_id   INTEGER REFERENCES servers (id) ON DELETE CASCADE,
    channel_id  TEXT,
    message_id  TEXT,
    lang        TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'zh')),  -- of the posted message
    created_at  TEXT NOT NULL
);
CREATE INDEX question_instances_message ON question_instances (message_id);

-- The first readable answer of each user to each posted question; the UNIQUE constraint turns
-- a repeat (double click, the same interaction delivered twice) into a no-op.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES question_instances (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server_id   INTEGER REFERENCES servers (id) ON DELETE CASCADE,
    topic       TEXT NOT NULL,
    ref         TEXT NOT NULL,
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    points      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    UNIQUE (instance_id, user_id)
);
CREATE INDEX attempts_user ON attempts (user_id, created_at);
CREATE INDEX attempts_user_ref ON attempts (user_id, ref, points);

-- What each user was served recently, so the next question is a different one.
CREATE TABLE served (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ref        TEXT NOT NULL,
    served_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, ref)
);
CREATE INDEX served_recent ON served (user_id, served_at);

-- Daily streaks per user and server (server_id 0 for the local console).
CREATE TABLE streaks (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server_id  INTEGER NOT NULL DEFAULT 0,
    current    INTEGER NOT NULL DEFAULT 0,
    best       INTEGER NOT NULL DEFAULT 0,
    last_day   TEXT,                         -- 'YYYY-MM-DD' (UTC) of the last counted day
    PRIMARY KEY (user_id, server_id)
);

-- Question packs a server imported (`/admin import`): the validated YAML, kept as written.
CREATE TABLE question_packs (
    id          INTEGER PRIMARY KEY,
    server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    content     TEXT NOT NULL,
    questions   INTEGER NOT NULL,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX question_packs_server ON question_packs (server_id);
