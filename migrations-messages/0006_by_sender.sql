CREATE INDEX `messages_sender` ON `messages` (`sender_id`,`conversation_id`,`seq`);--> statement-breakpoint
CREATE INDEX `reactions_user` ON `reactions` (`user_id`);