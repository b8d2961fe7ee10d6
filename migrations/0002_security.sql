DROP TABLE `login_failures`;--> statement-breakpoint
DROP INDEX `users_phone_unique`;--> statement-breakpoint
ALTER TABLE `oauth_clients` ADD `introspect` integer DEFAULT false NOT NULL;