CREATE TABLE `mentions` (
	`user_id` integer NOT NULL,
	`conversation_id` integer NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`user_id`, `conversation_id`, `seq`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `mentions_conversation` ON `mentions` (`conversation_id`,`seq`);