-- Written by hand: drizzle-kit does not model virtual tables or triggers, so neither appears in
-- src/db/shard-schema.ts; this file is in drizzle's journal only so that later generated migrations
-- number after it.
--
-- Full-text search over message bodies (src/search/): an FTS5 index on messages.body, external content
-- (the text is stored once, in messages), kept current by the triggers below. A deleted message's body is
-- empty, so it indexes no term and never matches. `wrangler d1 export` refuses a database with a virtual
-- table: see the README's operations notes for exporting a shard.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(`body`, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `messages_fts`(`messages_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO `messages_fts`(rowid, `body`) VALUES (new.`id`, new.`body`);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF `body` ON `messages` BEGIN
  INSERT INTO `messages_fts`(`messages_fts`, rowid, `body`) VALUES ('delete', old.`id`, old.`body`);
  INSERT INTO `messages_fts`(rowid, `body`) VALUES (new.`id`, new.`body`);
END;
--> statement-breakpoint
-- A message's index entry and reactions go with its row (a conversation's purge deletes rows in chunks).
CREATE TRIGGER `messages_gone` AFTER DELETE ON `messages` BEGIN
  INSERT INTO `messages_fts`(`messages_fts`, rowid, `body`) VALUES ('delete', old.`id`, old.`body`);
  DELETE FROM `reactions` WHERE `message_id` = old.`id`;
END;
