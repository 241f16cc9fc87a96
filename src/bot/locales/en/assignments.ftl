## Assignments (/assign)
assign-not-allowed = Only managers and admins can assign tasks.
assign-nothing = There is nothing to assign yet: no scenarios and no programs.
assign-nobody = Your team is empty so far — invite people with /invite.
assign-ask-work = What to assign? A program is a set of scenarios; passing all of them certifies.
assign-program-button = 📚 { $title }
assign-ask-difficulty = Difficulty for “{ $title }”? An attempt at this level or harder counts.
assign-ask-pass-mark = Pass mark?
assign-pass-mark-default = { $mark } (default)
assign-ask-deadline = Deadline? Type a number of days (“3” — in three days) or a date (“15.12” or “15.12.2026”). Due by 18:00 that day.
assign-deadline-format = I could not read that deadline. Type a number of days, e.g. “3”, or a date, e.g. “15.12” or “15.12.2026”.
assign-deadline-past = That date has already passed. Give a future date or a number of days.
assign-ask-who = Assign to whom?
assign-whole-team = 👥 Whole team ({ $count })
assign-choose-button = Pick an option with the buttons above, or send /cancel to leave.
assign-cancelled = Assignment cancelled.
assign-not-in-team = This person is not in your team — you can only assign to your own team.
assign-done = ✅ Assigned: { $what } — due { $due }.
    To: { $people }
assign-done-scenario = “{ $title }”, { $difficulty }, pass mark { $mark }
assign-done-program = program “{ $title }” ({ $count } { $count ->
        [one] scenario
       *[other] scenarios
    })
assign-in-training = In a training right now: { $people }. The task is saved — they will see it and can start it after finishing the current one.
assign-already = Already doing this program, not assigned again: { $people }
assign-none-new = Nothing new was assigned: everyone chosen already has this program in progress.

## A trainee's tasks (/tasks)
tasks-none = No open tasks. You can practise: /scenarios
tasks-title = Your tasks (an attempt at the given level or harder counts):
tasks-line = • “{ $title }”, { $difficulty } — pass mark { $mark }, due { $due }{ $overdue }
tasks-overdue-mark = {" "}(overdue)
tasks-start-button = ▶️ { $title }
tasks-not-yours = This task is closed or not yours. Open tasks: /tasks
tasks-scenario-gone = This task's scenario no longer exists. Please tell your manager.

## Under an evaluation
assignment-verdict-passed = Task passed ✅ (pass mark { $mark })
assignment-verdict-failed = Task not passed (pass mark { $mark }). Try again: /tasks
assignment-verdict-practice = Practice — this training is not part of a task.

## Notifications
notify-assigned = 📌 New task: “{ $title }”, { $difficulty }. Pass mark { $mark }, due { $due }.
notify-reminder = ⏰ Reminder: the task “{ $title }” ({ $difficulty }) is due by { $due }. Pass mark { $mark }.
notify-overdue = ⚠️ The task “{ $title }” ({ $difficulty }) was due { $due }. You can still pass it — your manager sees it is overdue.
notify-in-training = You have a training in progress: finish it (/finish or /cancel), then start the task.
notify-start-button = ▶️ Start
notify-manager-overdue = ⚠️ { $name } did not pass “{ $title }” ({ $difficulty }) by { $due }.
notify-manager-open-button = 👤 Open this person
notify-certified = 🎓 Congratulations! You completed the program “{ $title }” — certified on { $date }.
notify-certified-expires = The certificate is valid until { $date }; then the program is assigned again.
notify-certified-manager = 🎓 { $name } completed the program “{ $title }” — certified on { $date }.
notify-certified-button = 📋 Keep training
notify-digest-title = 📊 The team's week
notify-digest-trained = Trained: { $list }
notify-digest-trained-none = Nobody trained.
notify-digest-passed = Passed tasks: { $list }
notify-digest-passed-none = No tasks passed this week.
notify-digest-not-started = Not started: { $list }
notify-digest-weakest = The team's weakest criterion: “{ $title }” — { $average }/100 on average.
notify-digest-assign-button = 📌 Assign a task

## Command menu (for command-menus.ts)
command-tasks = My tasks
command-assign = Assign a task
