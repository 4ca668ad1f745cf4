-- The questions of each imported pack, validated, one row each. The primary key means two packs
-- of one server never share a question id, whichever process stores them; and start-up reads
-- the validated questions instead of parsing every pack's YAML again. Packs stored before this
-- migration get their rows the first time the bot starts (`Catalog.load_packs` in
-- bot/core/services/catalog.py).
CREATE TABLE pack_questions (
    server_id   INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    pack_id     INTEGER NOT NULL REFERENCES question_packs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,          -- its place in the pack
    body        TEXT NOT NULL,             -- the validated question (JSON)
    PRIMARY KEY (server_id, question_id)
);
CREATE INDEX pack_questions_pack ON pack_questions (pack_id, position);
