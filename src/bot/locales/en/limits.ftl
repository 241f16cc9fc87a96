## Per-person limits: the pace of turns, /finish, the daily token budget
limits-turn-rate =
    ⏸ Too many messages in a row — the client answers one line at a time.
    This message was not passed to the client, nor will those sent in the next { $seconds } s. Please send it again a little later — the dialogue is saved.
limits-finish-rate =
    ⏸ An evaluation was asked for many times this hour. The next one is possible in { $minutes } min.
    The dialogue is saved: go on talking to the client or come back to /finish later.
limits-user-budget =
    Your model budget for today is used up. This message was not passed to the client.
    It renews at { $resetsAt }. The dialogue is saved; you can get your evaluation now — /finish.
limits-team-budget =
    Your team's model budget for today is used up. This message was not passed to the client.
    It renews at { $resetsAt }. If you need more today, ask your manager or an admin to raise the team's limit. You can get your evaluation now — /finish.
limits-hint-budget =
    The model budget for today is used up, so hints are unavailable until { $resetsAt }.
    The dialogue is saved; you can get your evaluation now — /finish.
