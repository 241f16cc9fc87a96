## Access: /allow, /revoke, «Admit», notices about new people
access-revoked =
    Your access to the sales trainer has been closed. If this is a mistake, please contact your manager.
    Your Telegram id: { $telegramId }
access-person = { $name }
access-person-with-username = { $name } (@{ $username })
access-joined-notice =
    👋 { $person }, Telegram id: { $telegramId }, joined the trainer with your invite.
    They are in your team now — their trainings show in /team.
access-request-notice =
    🔒 { $person }, Telegram id: { $telegramId }, is trying to use the trainer but has no access.
    Press «Admit» to let them in. Otherwise I will remind you at most once a day, when they try again.
access-admit-button = Admit
access-granted-you = ✅ You now have access to the sales trainer. Send /start to begin.

allow-usage =
    How to let someone in: /allow <Telegram id> [<manager>]
    For example: /allow 123456789 or /allow 123456789 @ivanova — then the person joins that manager's team.
    Name the manager by Telegram id or @username; they must already use the bot.
allow-not-allowed = Only administrators can let people in.
allow-managers-invite = Only administrators can let people in with /allow. To add someone to your team, send them an invite: /invite
allow-done = ✅ Done: { $telegramId } is let in. Ask them to send /start to the bot.
allow-done-team = ✅ Done: { $telegramId } is let in and in { $manager }'s team. Ask them to send /start to the bot.
allow-already = { $telegramId } already has access — nothing to change.
allow-already-team = { $telegramId } already had access; they are in { $manager }'s team now.
allow-manager-unknown = I could not find the manager «{ $manager }». Give the Telegram id or @username of someone who already uses the bot.
allow-not-a-manager = { $manager } is not a manager: people can only be placed in a manager's or an administrator's team.

revoke-usage =
    How to close someone's access: /revoke <Telegram id>
    For example: /revoke 123456789
revoke-not-allowed = Only administrators can close access.
revoke-done = 🔒 Access for { $telegramId } is closed — at once, even if ALLOWED_USER_IDS lists the id. To undo: /allow { $telegramId }
revoke-done-named = 🔒 Access for { $name } ({ $telegramId }) is closed — at once, even if ALLOWED_USER_IDS lists the id. To undo: /allow { $telegramId }
revoke-admin = { $telegramId } is an administrator from ADMIN_USER_IDS and cannot be shut out with a command. Remove the id from ADMIN_USER_IDS and restart the bot.
revoke-already = Access for { $telegramId } is already closed.
revoke-unknown = { $telegramId } has no access anyway: this person was not let in and has not used the bot.

admit-not-allowed = This person can be let in by an administrator or by the manager whose invite they followed.
admit-done = ✅ { $telegramId } is let in; I have told them.
admit-done-team = ✅ { $telegramId } is let in and in { $manager }'s team; I have told them.
admit-already = { $telegramId } already has access.

command-team = Team results
command-invite = Invite to the team
command-allow = Let someone in by Telegram id
command-revoke = Close access by Telegram id
command-erase = Erase an employee's data
