CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`uploader_id` integer NOT NULL,
	`conversation_id` integer NOT NULL,
	`message_id` integer,
	`name` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`width` integer,
	`height` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attachments_uploader` ON `attachments` (`uploader_id`,`size`);--> statement-breakpoint
CREATE INDEX `attachments_conversation` ON `attachments` (`conversation_id`);--> statement-breakpoint
CREATE INDEX `attachments_message` ON `attachments` (`message_id`);--> statement-breakpoint
CREATE INDEX `attachments_unattached` ON `attachments` (`created_at`) WHERE "attachments"."message_id" IS NULL;--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`name` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL
);
