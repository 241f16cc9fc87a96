## Voice turns
voice-heard = 🎙 { $transcript }
voice-not-heard = I heard no words in that voice note. Record your line again or type it.
voice-too-long = That voice note is longer than { $max } s, too long to transcribe. Say it shorter, or split it into several notes.
voice-too-big = The file is larger than { $mb } MB, and Telegram does not give bots files that large. Record a shorter note or type your line.
voice-transcription-failed =
    Could not transcribe the voice note: the speech recognition service is not answering right now.
    Your line is saved — press “Retry” in a moment, or type it.
voice-download-failed =
    Telegram did not hand over the voice note's file.
    Your line is saved — press “Retry” in a moment, or type it.
voice-retry-button = 🔁 Retry
voice-not-supported = The AI server this trainer uses cannot recognise voice notes. Type your lines — the training goes on as usual.
voice-moved-on = The dialogue has moved on — this voice note stays without the client's answer.
voice-retry-done = This voice note has been transcribed already.

## The client's voice (/voice)
voice-mode-title = The client answers now: { $state }.
voice-mode-state-on = with voice notes, the text under them
voice-mode-state-off = in text
voice-mode-state-auto = as the scenario says: by voice in calls, in text in chats
voice-mode-set-on = Done: the client answers with voice notes, and the text stays under them.
voice-mode-set-off = Done: the client answers in text.
voice-mode-set-auto = Done: the client speaks in call scenarios ({ $titles }) and writes in the others.
voice-mode-set-auto-none = Done: the client answers as each scenario says (for now, all in text).
button-voice-on = 🔊 Voice
button-voice-off = 💬 Text
button-voice-auto = As the scenario says
command-voice = The client's voice: voice notes or text

## Evaluation: how the trainee sounded
evaluation-delivery = How you sounded
evaluation-delivery-rate = Pace: { $wpm } words per minute — { $verdict }.
evaluation-delivery-rate-slow = slow, it sounds unsure
evaluation-delivery-rate-comfortable = comfortable for a phone call
evaluation-delivery-rate-fast = fast, hard for the client to follow
evaluation-delivery-rate-unknown = Pace: the voice notes were too short to measure it.
evaluation-delivery-fillers = Filler words ({ $total }): { $list }.
evaluation-delivery-no-fillers = No filler words heard — well done.
evaluation-delivery-monologues = Long monologues (over { $seconds } s): { $count }, the longest { $longest } s. Keep it short and let the client answer.
evaluation-delivery-no-monologues = No long monologues: the longest line was { $longest } s.
