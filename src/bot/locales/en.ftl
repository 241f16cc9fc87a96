## Access
access-refused =
    Sorry, you don't have access to the sales trainer yet.
    Your Telegram id: { $telegramId } — send it to your manager to be added.
access-needs-invite =
    The trainer works by invitation. Ask your manager for an invite link and open it.
    Your Telegram id: { $telegramId }
access-invite-unknown =
    There is no such invite. Check the link or ask your manager for a new one.
    Your Telegram id: { $telegramId }
access-invite-expired =
    This invite has expired. Ask your manager for a new one.
    Your Telegram id: { $telegramId }
access-invite-used-up =
    Everyone this invite was meant for has already joined. Ask your manager for a new one.
    Your Telegram id: { $telegramId }

group-not-supported = Training happens in a private chat with the bot: open @{ $bot } and press Start. I am leaving this group.

## Start
start-welcome =
    Hello, { $name }! This is the sales trainer.
    You pick a scenario and an AI plays the client. When you're done, send /finish to get a score, strengths, mistakes and advice.
start-joined = Invite accepted, welcome to the team!
menu-title = Choose a training scenario:
menu-choose-difficulty =
    “{ $title }”
    { $description }

    Choose the difficulty:
menu-outdated = This menu is outdated. Open a new one: /scenarios
menu-empty = There are no scenarios yet. Please tell your administrator.

## Training
session-started =
    Training “{ $title }” ({ $difficulty }) has started.
    The client speaks first — answer as you would in a real conversation. Finish and get your score: /finish
session-switch-confirm = You are in the middle of “{ $title }”. Abandon it and start “{ $newTitle }”?
button-switch-yes = Yes, start the new one
button-switch-no = No, continue
session-switch-kept = Continuing “{ $title }”. The client is waiting for your answer.
session-abandoned = Training “{ $title }” was abandoned and will not be scored.
session-already-active = This training is already running. Continue the dialogue or finish it: /finish
chat-no-session = There is no active training. Choose a scenario: /scenarios
chat-model-unavailable =
    The client could not answer: the AI service is temporarily unavailable.
    Your message is saved — send your next line a bit later and the dialogue will continue.
chat-model-timeout =
    The client took too long to answer.
    Your message is saved — send your next line again in a minute.
chat-scenario-missing = This training's scenario is no longer available. Choose a new one: /scenarios

## Evaluation
finish-no-session = Nothing to finish: there is no active training. Start one: /scenarios
finish-nothing-said =
    You haven't written anything to the client in “{ $title }” yet, so there is nothing to score.
    Answer the client or choose another scenario: /scenarios
finish-judging = Scoring the dialogue, this can take up to a minute…
finish-judge-unavailable =
    Could not get a score: the AI service is unavailable right now.
    The training is still open — repeat /finish in a minute.
evaluation-score = { $score }/100
evaluation-title = “{ $title }”, difficulty: { $difficulty }
evaluation-criteria = Criteria
evaluation-strengths = Strengths
evaluation-mistakes = Mistakes
evaluation-recommendations = Recommendations
evaluation-long-dialogue = A long dialogue: the judge scored its beginning and its latest messages; { $omitted } { $omitted ->
    [one] message
   *[other] messages
  } from the middle did not fit.
evaluation-next = New training: /scenarios · History: /history

## History and stats
history-empty = You haven't trained yet. Start: /scenarios
history-title = Your latest trainings:
history-in-progress = in progress
history-abandoned = abandoned
history-not-scored = not scored
stats-empty = Your stats will appear after your first scored training. Start: /scenarios
stats-summary =
    Scored trainings: { $count }
    Average: { $average }/100
    Best: { $best }/100
    Last: { $last }/100
stats-by-scenario = By scenario and level:

## Team (for managers)
team-not-allowed = This command is for managers and administrators.

## Invites
invite-not-allowed = Only managers and administrators can create invites.
invite-ask-uses = How many people may join with this invite?
invite-ask-days = For how many days is the invite valid?
invite-ask-role = What role will they have?
invite-role-trainee = Trainees
invite-role-manager = Managers
invite-created =
    The invite is ready: up to { $uses } people, valid until { $expires }.
    Send this link to your team:
    { $link }
invite-cancelled = Invite creation cancelled.
invite-choose-button = Choose an option with the buttons below or send /cancel.

## Erasing a person's data (for administrators)
erase-not-allowed = Only administrators can erase a person's data.
erase-usage =
    Give the Telegram id of the person to erase: /erase 123456789
    A person without access sees their Telegram id in the bot's answer; it is also in the Google Sheet.
erase-nothing = Nothing is stored about Telegram id { $telegramId }.
erase-confirm =
    Erase all data about { $name } (Telegram id { $telegramId })?
    Trainings: { $sessions }. Dialogues, scores and their rows in the Google Sheet are deleted for good.
erase-confirm-sheet-only =
    Nothing about Telegram id { $telegramId } is left in the database, but deleting their rows from the Google Sheet is still queued.
    Try to delete them now?
button-erase-yes = Yes, erase
button-erase-no = Cancel
erase-cancelled = Erasure cancelled, nothing changed.
erase-running = Erasing…
erase-report-done = The data about Telegram id { $telegramId } is erased.
erase-report-nothing = The database held nothing about Telegram id { $telegramId }.
erase-report-database =
    Deleted from the database: person — { $users }, trainings — { $sessions }, messages — { $messages }, scores — { $evaluations }, invite redemptions — { $redemptions }, unfinished dialogues with the bot — { $states }, sheet export queue entries — { $exports }.
erase-report-invites = The invites they created ({ $detached }) stay without their name, so the people invited keep their access; the ones still open ({ $closed }) are closed.
erase-report-sheet-off = No Google Sheet is connected: nothing to delete there.
erase-report-sheet-nothing = There was nothing to delete in the Google Sheet.
erase-report-sheet-erased = Google Sheet: rows deleted from the results tab — { $rows }; the people tab was rewritten without them.
erase-report-sheet-recheck = After { $time } the bot looks at the sheet once more and deletes a row that an export begun before the erasure may still have written.
erase-report-sheet-queued =
    Google Sheet: the rows could not be deleted now — { $reason }.
    The deletion is kept in the database queue: the bot retries it until it is done and tells the administrators if the sheet stays unreachable.
erase-sheet-reason-google-unavailable = Google Sheets does not answer
erase-sheet-reason-google-refused = Google refused access to the sheet
erase-sheet-reason-busy = another bot process is editing the sheet this minute
erase-sheet-reason-database = the database did not answer

## Help
help =
    How to train:
    1. /scenarios — choose a scenario and a difficulty.
    2. The client writes first — answer as in a real conversation.
    3. /finish — finish and get your score.

    Commands:
    /scenarios — choose a scenario
    /finish — finish the training and get a score
    /cancel — stop the training without a score
    /hint — advice on what to say now
    /voice — the client answers by voice or in text
    /history — latest trainings
    /stats — your progress
    /help — this help
help-managers =
    For managers:
    /team — the team's results
    /invite — create an invite
help-admins =
    For admins:
    /erase <Telegram id> — erase everything the bot keeps about a person (asks first)
    /allow <Telegram id> [<manager>] — let someone in (and into a manager's team)
    /revoke <Telegram id> — close someone's access at once

## Everything else
unhandled-sticker = Nice sticker, but the client won't see it 🙂 Please answer in text.
unhandled-media = I only understand text. Please write your line to the client as a message.
unhandled-voice = I listen to voice notes during a training: pick a scenario — /scenarios — and answer the client by voice or in text.
unhandled-command = Unknown command. The list of commands: /help
unhandled-edited = Edited messages are not passed to the client. Please send a new line.
unhandled-other = I didn't understand that. The list of commands: /help
cancel-nothing = Nothing to cancel.
error-generic = Something went wrong. Please try again; if it happens again, tell your manager.
error-database-unavailable = The bot's database is unavailable right now. Wait a minute and send your message again.

## Telegram command menu
command-scenarios = Choose a training scenario
command-finish = Finish the training and get a score
command-hint = Advice on what to say now
command-history = Latest trainings
command-stats = My progress
command-help = Help
command-start = Start
