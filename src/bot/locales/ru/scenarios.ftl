## Карточка клиента: её видят перед первой репликой клиента
scenarios-brief =
    🗂 <b>Карточка клиента</b>
    <b>На линии:</b> { $who }
    <b>Компания:</b> { $company }

    <b>Что вы знаете:</b>
    { $known }
scenarios-brief-with-goal =
    { scenarios-brief }

    <b>Ваша задача:</b> { $goal }
scenarios-brief-fact = • { $fact }

## Язык сценариев — для тех, у кого язык интерфейса другой
scenarios-language-all = Язык сценариев — { $language }: на нём говорит клиент и пишется оценка.
scenarios-language-some = Язык сценариев { $titles } — { $language }: на нём говорит клиент и пишется оценка.
scenarios-language-one = Язык этого сценария — { $language }: на нём говорит клиент и пишется оценка.
scenarios-title-quoted = «{ $title }»
scenarios-menu-with-note =
    { $note }

    { menu-title }
scenarios-difficulty-with-note =
    { $note }

    { menu-choose-difficulty }
