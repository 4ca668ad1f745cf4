-- SQLite migration 0010: the language a daily question is posted in (NULL: the server's locale).
ALTER TABLE daily_settings ADD COLUMN lang text CHECK (lang IN ('en', 'zh'));
