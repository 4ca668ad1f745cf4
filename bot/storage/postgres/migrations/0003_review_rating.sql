-- SQLite migration 0009's column, so that `python -m bot db copy` moves attempts both ways.
-- PostgreSQL writes an answer's review card in the answer's transaction: always NULL here.
ALTER TABLE attempts ADD COLUMN review_rating smallint CHECK (review_rating BETWEEN 1 AND 4);
