CREATE TABLE `reactions` (
	`message_id` integer NOT NULL,
	`emoji` text NOT NULL,
	`user_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `emoji`, `user_id`)
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `reply_to` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `mentions` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `pinned_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `pinned_by` integer;--> statement-breakpoint
CREATE INDEX `messages_thread` ON `messages` (`reply_to`,`seq`) WHERE "messages"."reply_to" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_pins` ON `messages` (`conversation_id`,`pinned_at`) WHERE "messages"."pinned_at" IS NOT NULL;