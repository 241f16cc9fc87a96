## A manager's review of an evaluation
review-button = ✏️ Review the score
review-ask-score = The AI gave { $score }/100. What score do you give? Send a number from 0 to 100. Cancel: /cancel
review-bad-score = Please send a whole number from 0 to 100, for example 75. Cancel: /cancel
review-ask-comment = Score { $score }/100. Now a comment for the trainee: what went well and what to fix (up to { $limit } characters).
review-bad-comment = The comment must not be empty and at most { $limit } characters long (this one is { $length }). Please send it again.
review-text-please = Please answer with text. Cancel: /cancel
review-cancelled = All right, nothing is changed.
review-stored = Done: your score { $score }/100 is kept beside the AI's, and the trainee got it with your comment.
review-stored-not-told = Your score { $score }/100 is kept beside the AI's. The trainee could not be told (they may have stopped the bot): they will see it in /history.
review-trainee-told = Your manager reviewed the evaluation of "{ $title }".
review-trainee-open = Open the evaluation
review-score-line = Manager's score: { $score }/100 (AI: { $ai }/100)
review-comment-line = Manager's comment: { $comment }

## Disputing an evaluation (trainee)
dispute-button = ⚖️ Dispute the score
dispute-ask-reason = Write what you disagree with in the evaluation, and why (up to { $limit } characters). Your manager gets your message and reviews the score. Cancel: /cancel
dispute-bad-reason = The reason must not be empty and at most { $limit } characters long (this one is { $length }). Please send it again.
dispute-stored = Thank you: your dispute is recorded and sent to your manager. When they review the score, the bot will send it to you.
dispute-already = You have already disputed this score: your manager will see it.
dispute-open-button = Open the training
dispute-manager-told =
    ⚖️ { $name } disputes the score { $score }/100 for "{ $title }".
    Reason: { $reason }
