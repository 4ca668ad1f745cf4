-- Leaderboard totals applied behind the answers (bot/storage/totals.py): an answer's
-- transaction writes its attempt; the totals of the attempts after `attempt_id` are added to
-- score_totals later, in bulk, in one transaction that also moves this mark (each attempt
-- counted exactly once, whoever applies it and whenever, a crash in between included).
CREATE TABLE totals_applied (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    attempt_id  INTEGER NOT NULL            -- the last attempt whose totals are in score_totals
);
-- Migration 0002 and every answer since kept the totals with the attempts: all applied.
INSERT INTO totals_applied (id, attempt_id) SELECT 1, COALESCE(MAX(id), 0) FROM attempts;
-- SQLite numbers a new attempt MAX(id) + 1: once the largest attempts are deleted, their ids
-- come again. When the largest id left is below the mark, every attempt left is at or below
-- the mark (applied): the mark comes down to that id, and the next attempt is after it again.
CREATE TRIGGER totals_applied_below_max AFTER DELETE ON attempts
BEGIN
    UPDATE totals_applied SET attempt_id = (SELECT COALESCE(MAX(id), 0) FROM attempts)
    WHERE attempt_id > (SELECT COALESCE(MAX(id), 0) FROM attempts);
END;

-- The reward window ("points at most once per question in 30 days"): whether a user answered
-- a key since a time, and was paid for it, is a seek or two per key (bot/storage/sqlite/
-- _attempts.py `_REWARD_SQL`), not a walk through every attempt at the key ever.
DROP INDEX attempts_user_key;
CREATE INDEX attempts_user_key ON attempts (user_id, question_key, points, created_at);
-- No query reads attempts by (user_id, ref) since migration 0005 keyed attempts by question.
DROP INDEX attempts_user_ref;
