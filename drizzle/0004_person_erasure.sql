CREATE TABLE "job_runs" (
	"name" text PRIMARY KEY NOT NULL,
	"last_run_at" timestamp with time zone,
	"leased_until" timestamp with time zone,
	"lease_holder" text
);
--> statement-breakpoint
CREATE TABLE "sheet_erasures" (
	"id" serial PRIMARY KEY NOT NULL,
	"telegram_id" bigint,
	"session_ids" integer[] NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settle_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "invites" DROP CONSTRAINT "invites_created_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "invites" ALTER COLUMN "created_by" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "transcript_deleted_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "sheet_erasures_due" ON "sheet_erasures" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "sheet_erasures_telegram_id" ON "sheet_erasures" USING btree ("telegram_id");--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;