CREATE TYPE "public"."assignment_status" AS ENUM('open', 'passed');--> statement-breakpoint
CREATE TYPE "public"."notification_kind" AS ENUM('assigned', 'reminder', 'overdue', 'manager-overdue', 'certified', 'digest');--> statement-breakpoint
CREATE TABLE "assignments" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"scenario_key" text NOT NULL,
	"difficulty" text NOT NULL,
	"pass_mark" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"assigned_by" integer,
	"program_key" text,
	"cycle" integer DEFAULT 1 NOT NULL,
	"status" "assignment_status" DEFAULT 'open' NOT NULL,
	"passed_session_id" integer,
	"passed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "certifications" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"program_key" text NOT NULL,
	"cycle" integer NOT NULL,
	"certified_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"renewed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" "notification_kind" NOT NULL,
	"recipient_id" integer NOT NULL,
	"assignment_id" integer,
	"program_key" text,
	"cycle" integer,
	"dedupe_key" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"leased_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sent_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_assigned_by_users_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_passed_session_id_sessions_id_fk" FOREIGN KEY ("passed_session_id") REFERENCES "public"."sessions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certifications" ADD CONSTRAINT "certifications_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_recipient_id_users_id_fk" FOREIGN KEY ("recipient_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_assignment_id_assignments_id_fk" FOREIGN KEY ("assignment_id") REFERENCES "public"."assignments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assignments_user_status" ON "assignments" USING btree ("user_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "assignments_program_item" ON "assignments" USING btree ("user_id","program_key","cycle","scenario_key") WHERE "assignments"."program_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "certifications_user_program_cycle" ON "certifications" USING btree ("user_id","program_key","cycle");--> statement-breakpoint
CREATE INDEX "notifications_due" ON "notifications" USING btree ("due_at") WHERE "notifications"."sent_at" is null and "notifications"."failed_at" is null;