-- Messages move to the message shards (MESSAGES_<n>, migrations-messages/); the main database keeps a
-- copy of each conversation's last message (the chat list never reads a shard) and its shard.
-- Hey had no deployment holding messages when this was written: a local database's history is not
-- carried over, so its conversations and watermarks start again from seq 0.
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `conversations` DROP COLUMN `change_seq`;--> statement-breakpoint
UPDATE `conversations` SET `last_seq` = 0, `last_message_at` = NULL;--> statement-breakpoint
UPDATE `participants` SET `delivered_seq` = 0, `delivered_at` = NULL, `read_seq` = 0, `read_at` = NULL;--> statement-breakpoint
CREATE TABLE `message_shards` (
	`shard` integer PRIMARY KEY NOT NULL,
	`conversations` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `conversations` ADD `shard` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_message_id` integer;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_sender_id` integer;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_body` text;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_client_message_id` text;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_edited_at` integer;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_deleted` integer DEFAULT false NOT NULL;
