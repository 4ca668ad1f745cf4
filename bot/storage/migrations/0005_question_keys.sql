-- What a question asks, whatever produced it: the canonical key of each attempt's question, so
-- that "points at most once per question in 30 days" holds for a generated question drawn again
-- under another seed. A written question's key is its bank id; a generated one's is
-- 'FAMILY#<hash of the parameters it asks about>' (core.models.question_key).
ALTER TABLE attempts ADD COLUMN question_key TEXT NOT NULL DEFAULT '';
-- Older attempts keep their reference as key. A generated one's (FAMILY:SEED) is replaced by
-- its real key when the bot starts (`Answering.key_old_attempts` in
-- bot/core/services/answering.py); this index finds those that are left.
UPDATE attempts SET question_key = ref;
CREATE INDEX attempts_user_key ON attempts (user_id, question_key, points);
CREATE INDEX attempts_unkeyed ON attempts (ref) WHERE question_key = ref AND instr(ref, ':') > 0;

-- Today's question of each scope ('server:ID' for a server's channel, 'user:ID' for the
-- console): asked again the same day, the daily is the same question instance, so it pays once.
CREATE TABLE daily_questions (
    scope       TEXT NOT NULL,
    day         TEXT NOT NULL,               -- 'YYYY-MM-DD' (UTC)
    instance_id INTEGER NOT NULL REFERENCES question_instances (id) ON DELETE CASCADE,
    PRIMARY KEY (scope, day)
);
INSERT INTO daily_questions (scope, day, instance_id)
    SELECT 'server:' || server_id, daily_day, MIN(id) FROM question_instances
    WHERE daily_day IS NOT NULL AND server_id IS NOT NULL
    GROUP BY server_id, daily_day;
