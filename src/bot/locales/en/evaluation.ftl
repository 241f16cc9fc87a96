## The evaluation: why each score, and which figures were wrong
evaluation-quote-dropped = ⚠ The judge's quote is not in the dialogue — removed.
evaluation-facts = Facts
evaluation-fact = { $claim } → { $correct } ({ $source })
evaluation-fact-no-source = { $claim } → { $correct }
