## Leaving a training without a score (/cancel)
cancel-confirm = Stop the training “{ $title }” without a score?
cancel-button-abandon = Stop
cancel-button-keep = Continue
cancel-done = The training “{ $title }” was stopped, without a score. /scenarios — choose a scenario.
cancel-kept = Continuing “{ $title }”.
cancel-already-over = The training “{ $title }” has already ended — nothing to stop. /scenarios — choose a scenario.
cancel-question-closed = This question is closed. To stop the training: /cancel
command-cancel = Stop the training without a score
