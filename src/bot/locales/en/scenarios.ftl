## The client card, shown before the client's first line
scenarios-brief =
    🗂 <b>Client card</b>
    <b>On the line:</b> { $who }
    <b>Company:</b> { $company }

    <b>What you know:</b>
    { $known }
scenarios-brief-with-goal =
    { scenarios-brief }

    <b>Your task:</b> { $goal }
scenarios-brief-fact = • { $fact }

## The scenarios' language, for people whose interface language differs
scenarios-language-all = The scenarios are in { $language }: the client speaks { $language } and the evaluation is written in { $language }.
scenarios-language-some = These scenarios are in { $language }: { $titles }. In them the client speaks { $language } and the evaluation is written in { $language }.
scenarios-language-one = This scenario is in { $language }: the client speaks { $language } and the evaluation is written in { $language }.
scenarios-title-quoted = “{ $title }”
scenarios-menu-with-note =
    { $note }

    { menu-title }
scenarios-difficulty-with-note =
    { $note }

    { menu-choose-difficulty }
