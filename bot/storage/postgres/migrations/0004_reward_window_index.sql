-- The reward window ("points at most once per question in 30 days"): whether a user answered a
-- key since a time, and was paid for it, is a seek or two per key (bot/storage/postgres/
-- _attempts.py `_REWARD`), as SQLite's migration 0008: not a walk through every attempt the
-- user made at the key, which grew with each answer to it.
DROP INDEX attempts_user_key;
CREATE INDEX attempts_user_key ON attempts (user_id, question_key, points, created_at);
