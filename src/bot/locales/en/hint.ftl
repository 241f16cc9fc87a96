## Hint (/hint)
hint-no-session = Hints are available during a training. Start: /scenarios
hint-unavailable = The knowledge base is unavailable right now, try again later.
hint-thinking = ⏳ Finding a hint for this moment of the conversation…
hint-nothing =
    Nothing in the knowledge base fits this moment of the conversation.
    Try asking for a hint after the client's next line.
hint-advice =
    💡 Hint

    { $advice }

    Try saying: “{ $phrase }”

    Source: { $source }
# The model did not answer: the document's passage itself, in whole sentences, instead of advice.
hint-passage =
    💡 A hint from the knowledge base

    { $text }

    Source: { $source }
