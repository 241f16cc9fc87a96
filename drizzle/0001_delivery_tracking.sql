ALTER TABLE "evaluations" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "finish_requested_at" timestamp with time zone;--> statement-breakpoint
-- Everything stored before delivery tracking existed was delivered: never send it again.
UPDATE "messages" SET "delivered_at" = "created_at" WHERE "role" = 'assistant';--> statement-breakpoint
UPDATE "evaluations" SET "delivered_at" = "created_at";
