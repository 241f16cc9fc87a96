## Назначение заданий (/assign)
assign-not-allowed = Назначать задания могут руководители и администраторы.
assign-nothing = Назначать пока нечего: нет ни сценариев, ни программ.
assign-nobody = В вашей команде пока никого нет — пригласите сотрудников через /invite.
assign-ask-work = Что назначить? Программа — это набор сценариев; сдав все, сотрудник получает сертификат.
assign-program-button = 📚 { $title }
assign-ask-difficulty = Сложность для «{ $title }»? Зачтётся попытка на этой сложности или выше.
assign-ask-pass-mark = Проходной балл?
assign-pass-mark-default = { $mark } (по умолчанию)
assign-ask-deadline = Срок? Напишите число дней («3» — через три дня) или дату («15.12» или «15.12.2026»). Срок — до 18:00 этого дня.
assign-deadline-format = Не понял срок. Напишите число дней, например «3», или дату, например «15.12» или «15.12.2026».
assign-deadline-past = Этот срок уже прошёл. Укажите будущую дату или число дней.
assign-ask-who = Кому назначить?
assign-whole-team = 👥 Вся команда ({ $count })
assign-choose-button = Выберите вариант кнопкой выше или напишите /cancel, чтобы выйти.
assign-cancelled = Назначение отменено.
assign-not-in-team = Этот сотрудник не в вашей команде — назначать можно только своей команде.
assign-done = ✅ Назначено: { $what } — срок { $due }.
    Кому: { $people }
assign-done-scenario = «{ $title }», { $difficulty }, проходной балл { $mark }
assign-done-program = программа «{ $title }» ({ $count } { $count ->
        [one] сценарий
        [few] сценария
       *[other] сценариев
    })
assign-in-training = Сейчас в тренировке: { $people }. Задание сохранено — они увидят его и смогут начать, когда закончат текущую.
assign-already = Уже проходят эту программу, повторно не назначено: { $people }
assign-none-new = Ничего нового не назначено: у всех выбранных эта программа уже в работе.

## Задания сотрудника (/tasks)
tasks-none = Открытых заданий нет. Можно потренироваться: /scenarios
tasks-title = Ваши задания (зачтётся попытка на указанной сложности или выше):
tasks-line = • «{ $title }», { $difficulty } — проходной балл { $mark }, срок { $due }{ $overdue }
tasks-overdue-mark = {" "}(просрочено)
tasks-start-button = ▶️ { $title }
tasks-not-yours = Это задание уже закрыто или не ваше. Открытые задания: /tasks
tasks-scenario-gone = Сценария этого задания больше нет. Напишите руководителю.

## Под оценкой
assignment-verdict-passed = Задание зачтено ✅ (проходной балл { $mark })
assignment-verdict-failed = Задание не зачтено (проходной балл { $mark }). Попробуйте ещё раз: /tasks
assignment-verdict-practice = Практика — эта тренировка не входит в задания.

## Уведомления
notify-assigned = 📌 Новое задание: «{ $title }», { $difficulty }. Проходной балл { $mark }, срок { $due }.
notify-reminder = ⏰ Напоминание: задание «{ $title }» ({ $difficulty }) нужно сдать до { $due }. Проходной балл { $mark }.
notify-overdue = ⚠️ Срок задания «{ $title }» ({ $difficulty }) прошёл { $due }. Его ещё можно сдать — руководитель видит, что оно просрочено.
notify-in-training = Сейчас у вас идёт тренировка: закончите её (/finish или /cancel), потом начните задание.
notify-start-button = ▶️ Начать
notify-manager-overdue = ⚠️ Просрочено: { $name } — задание «{ $title }» ({ $difficulty }) не сдано к сроку { $due }.
notify-manager-open-button = 👤 Открыть сотрудника
notify-certified = 🎓 Поздравляем! Вы прошли программу «{ $title }» — сертификат от { $date }.
notify-certified-expires = Сертификат действует до { $date }; потом программу назначат снова.
notify-certified-manager = 🎓 Сертификат: { $name } — программа «{ $title }» пройдена, сертификат от { $date }.
notify-certified-button = 📋 Тренироваться дальше
notify-digest-title = 📊 Неделя команды
notify-digest-trained = Тренировались: { $list }
notify-digest-trained-none = Никто не тренировался.
notify-digest-passed = Сдали задания: { $list }
notify-digest-passed-none = Сданных заданий за неделю нет.
notify-digest-not-started = Не начинали: { $list }
notify-digest-weakest = Самый слабый критерий команды: «{ $title }» — в среднем { $average }/100.
notify-digest-assign-button = 📌 Назначить задание

## Меню команд (для command-menus.ts)
command-tasks = Мои задания
command-assign = Назначить задание
