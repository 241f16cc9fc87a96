CREATE TABLE "bot_instances" (
	"lock_key" bigint PRIMARY KEY NOT NULL,
	"instance_id" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"backend_pid" integer NOT NULL
);
