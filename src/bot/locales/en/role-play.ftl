## Role-play: the client ends the call
role-play-client-hung-up = 📞 The client hung up. Send /finish to get your evaluation, or /scenarios to start again.
role-play-call-over = 📞 The client has already hung up and cannot hear you. Send /finish to get the conversation evaluated, or /scenarios to start again.
