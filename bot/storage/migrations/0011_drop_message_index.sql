-- No query looks a posted question up by its message id (the bot reads the instance id from the
-- button's custom id), so the index only cost a write with every posted question and every
-- message id set.
DROP INDEX IF EXISTS question_instances_message;
