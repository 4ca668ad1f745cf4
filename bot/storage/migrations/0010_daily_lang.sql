-- The language a daily question is posted in: the one the admin set it in (`/daily set`), as a
-- quiz round takes its host's; NULL (settings made before): the server's locale.
ALTER TABLE daily_settings ADD COLUMN lang TEXT CHECK (lang IN ('en', 'zh'));
