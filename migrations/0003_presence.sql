CREATE TABLE `presence` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`online` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `users` ADD `show_presence` integer DEFAULT true NOT NULL;