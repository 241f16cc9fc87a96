## Доступ: /allow, /revoke, «Допустить», уведомления о новых людях
access-revoked =
    Доступ к тренажёру продаж для вас закрыт. Если это ошибка, обратитесь к руководителю.
    Ваш Telegram id: { $telegramId }
access-person = { $name }
access-person-with-username = { $name } (@{ $username })
access-joined-notice =
    👋 По вашему приглашению в тренажёр вошёл { $person }, Telegram id: { $telegramId }.
    Теперь он в вашей команде — его тренировки видны в /team.
access-request-notice =
    🔒 { $person }, Telegram id: { $telegramId }, пытается войти в тренажёр, но доступа у него нет.
    Нажмите «Допустить», чтобы открыть доступ. Если не нажимать, я напомню не чаще раза в день, когда он попробует снова.
access-admit-button = Допустить
access-granted-you = ✅ Вам открыли доступ к тренажёру продаж. Отправьте /start, чтобы начать.

allow-usage =
    Как допустить человека: /allow <Telegram id> [<руководитель>]
    Например: /allow 123456789 или /allow 123456789 @ivanova — тогда человек попадёт в команду этого руководителя.
    Руководителя можно указать Telegram id или @username; он должен уже пользоваться ботом.
allow-not-allowed = Допускать людей могут только администраторы.
allow-managers-invite = Допускать людей командой /allow могут только администраторы. Чтобы добавить человека в свою команду, отправьте ему приглашение: /invite
allow-done = ✅ Готово: { $telegramId } допущен. Пусть напишет боту /start.
allow-done-team = ✅ Готово: { $telegramId } допущен и в команде { $manager }. Пусть напишет боту /start.
allow-already = { $telegramId } уже допущен — ничего менять не нужно.
allow-already-team = { $telegramId } уже был допущен; теперь он в команде { $manager }.
allow-manager-unknown = Не нашёл руководителя «{ $manager }». Укажите Telegram id или @username человека, который уже пользуется ботом.
allow-not-a-manager = { $manager } не руководитель: в команду можно поместить только к руководителю или администратору.

revoke-usage =
    Как закрыть доступ: /revoke <Telegram id>
    Например: /revoke 123456789
revoke-not-allowed = Закрывать доступ могут только администраторы.
revoke-done = 🔒 Доступ для { $telegramId } закрыт — сразу, даже если id есть в ALLOWED_USER_IDS. Вернуть: /allow { $telegramId }
revoke-done-named = 🔒 Доступ для { $name } ({ $telegramId }) закрыт — сразу, даже если id есть в ALLOWED_USER_IDS. Вернуть: /allow { $telegramId }
revoke-admin = { $telegramId } — администратор из ADMIN_USER_IDS, командой закрыть ему доступ нельзя. Уберите id из ADMIN_USER_IDS и перезапустите бота.
revoke-already = Доступ для { $telegramId } уже закрыт.
revoke-unknown = У { $telegramId } и так нет доступа: этот человек не допущен и ботом не пользовался.

admit-not-allowed = Допустить этого человека может администратор или руководитель, по чьему приглашению он пришёл.
admit-done = ✅ { $telegramId } допущен; я сообщил ему об этом.
admit-done-team = ✅ { $telegramId } допущен и в команде { $manager }; я сообщил ему об этом.
admit-already = { $telegramId } уже допущен.

command-team = Результаты команды
command-invite = Пригласить в команду
command-allow = Допустить человека по Telegram id
command-revoke = Закрыть доступ по Telegram id
command-erase = Стереть данные сотрудника
