-- Review cards applied behind the answers, with the leaderboard totals (bot/storage/totals.py):
-- an answer's attempt carries its FSRS rating, and its review card (bot/storage/cards.py) is
-- computed and written when the totals of the attempts after the mark `totals_applied` are
-- applied, in the same transaction. NULL: no card to apply (none, or written with its attempt
-- before this migration: those attempts are all at or below the mark, or the mark has them
-- pending with NULL, which applies nothing).
ALTER TABLE attempts ADD COLUMN review_rating INTEGER CHECK (review_rating BETWEEN 1 AND 4);
