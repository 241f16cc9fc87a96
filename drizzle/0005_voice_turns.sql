CREATE TYPE "public"."message_kind" AS ENUM('text', 'voice', 'audio', 'video_note');--> statement-breakpoint
CREATE TYPE "public"."voice_replies" AS ENUM('on', 'off');--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "delivery" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "kind" "message_kind" DEFAULT 'text' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "audio_seconds" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "telegram_file_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "transcribed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "voice_replies" "voice_replies";