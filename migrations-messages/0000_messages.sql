CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`sender_id` integer NOT NULL,
	`body` text NOT NULL,
	`client_message_id` text,
	`sent_at` integer NOT NULL,
	`edited_at` integer,
	`deleted` integer DEFAULT false NOT NULL,
	`change_seq` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq` ON `messages` (`conversation_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_idempotency` ON `messages` (`conversation_id`,`sender_id`,`client_message_id`);--> statement-breakpoint
CREATE INDEX `messages_conversation_change` ON `messages` (`conversation_id`,`change_seq`);