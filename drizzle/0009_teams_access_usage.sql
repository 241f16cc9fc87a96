CREATE TYPE "public"."access_grant_source" AS ENUM('admin', 'invite');--> statement-breakpoint
CREATE TYPE "public"."model_usage_purpose" AS ENUM('client', 'judge', 'hint', 'transcription', 'speech');--> statement-breakpoint
CREATE TABLE "access_grants" (
	"telegram_id" bigint PRIMARY KEY NOT NULL,
	"source" "access_grant_source" NOT NULL,
	"granted_by" integer,
	"invite_code" text,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" integer
);
--> statement-breakpoint
CREATE TABLE "access_requests" (
	"telegram_id" bigint PRIMARY KEY NOT NULL,
	"username" text,
	"first_name" text,
	"last_name" text,
	"language_code" text,
	"invite_code" text,
	"last_refused_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "evaluation_disputes" (
	"session_id" integer PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"manager_notified_at" timestamp with time zone,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "evaluation_reviews" (
	"session_id" integer PRIMARY KEY NOT NULL,
	"reviewer_id" integer,
	"score" integer NOT NULL,
	"comment" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evaluation_reviews_score_range" CHECK ("evaluation_reviews"."score" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "model_usage" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" integer,
	"session_id" integer,
	"purpose" "model_usage_purpose" NOT NULL,
	"model" text NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" real DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "invite_redemptions" ADD COLUMN "inviter_notified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "manager_id" integer;--> statement-breakpoint
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_granted_by_users_id_fk" FOREIGN KEY ("granted_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_invite_code_invites_code_fk" FOREIGN KEY ("invite_code") REFERENCES "public"."invites"("code") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_invite_code_invites_code_fk" FOREIGN KEY ("invite_code") REFERENCES "public"."invites"("code") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_disputes" ADD CONSTRAINT "evaluation_disputes_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_reviews" ADD CONSTRAINT "evaluation_reviews_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_reviews" ADD CONSTRAINT "evaluation_reviews_reviewer_id_users_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_usage" ADD CONSTRAINT "model_usage_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_usage" ADD CONSTRAINT "model_usage_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_usage_user_created" ON "model_usage" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "model_usage_created" ON "model_usage" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "model_usage_session" ON "model_usage" USING btree ("session_id");--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_manager_id_users_id_fk" FOREIGN KEY ("manager_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
--> statement-breakpoint
-- Backfill: whoever a manager's (or an admin's) invite admitted is in that person's team.
UPDATE "users" AS u SET "manager_id" = i."created_by"
  FROM "invite_redemptions" AS r
  JOIN "invites" AS i ON i."code" = r."code"
  JOIN "users" AS m ON m."id" = i."created_by"
  WHERE r."user_id" = u."id" AND u."manager_id" IS NULL AND m."id" <> u."id" AND m."role" IN ('manager', 'admin');--> statement-breakpoint
-- A redeemed invite is an allowlist entry from now on, in every access mode.
INSERT INTO "access_grants" ("telegram_id", "source", "granted_by", "invite_code", "granted_at")
  SELECT DISTINCT ON (u."telegram_id") u."telegram_id", 'invite', i."created_by", r."code", r."created_at"
  FROM "invite_redemptions" AS r
  JOIN "users" AS u ON u."id" = r."user_id"
  JOIN "invites" AS i ON i."code" = r."code"
  ORDER BY u."telegram_id", r."created_at"
  ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Those who joined before this release are not announced to their inviters now.
UPDATE "invite_redemptions" SET "inviter_notified_at" = "created_at";
