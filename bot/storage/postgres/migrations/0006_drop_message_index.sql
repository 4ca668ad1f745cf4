-- PostgreSQL migration 0006: no query looks a posted question up by its message id (the bot
-- reads the instance id from the button's custom id). The index cost a write with every posted
-- question, and it made setting the message id, just after posting, a non-HOT update (a new
-- index entry in every index of the table) instead of an in-page one.
DROP INDEX IF EXISTS question_instances_message;
