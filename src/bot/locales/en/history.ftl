## Under an evaluation: what next
after-evaluation-repeat = 🔁 Repeat
after-evaluation-other = 📋 Another scenario
after-evaluation-scenario-gone = This scenario no longer exists. Choose another: /scenarios

## Past evaluations (/history)
history-open-hint = A training's evaluation can be opened again with the buttons below.
history-open-button = Open: { $date } { $title } — { $score }
history-evaluation-unavailable = This evaluation is not available.

## Progress by level (/stats)
stats-line = • { $title } · { $difficulty }: { $count } × { $average }/100, best { $best }
# The level of a scenario that no longer exists (an existing one has its own label).
difficulty-label-easy = Easy
difficulty-label-medium = Medium
difficulty-label-hard = Hard

## The manager's score beside the AI's (/history)
history-reviewed-score = AI { $ai }/100 · manager { $score }/100
