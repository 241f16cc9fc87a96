ALTER TABLE "evaluations" ADD COLUMN "facts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "rubric_version" text;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "prompt_version" text;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "judge_temperature" real;