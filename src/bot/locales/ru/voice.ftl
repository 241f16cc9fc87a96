## Голосовые реплики
voice-heard = 🎙 { $transcript }
voice-not-heard = Не расслышал: в голосовом нет слов. Запишите реплику ещё раз или напишите её текстом.
voice-too-long = Голосовое длиннее { $max } с — такое я не расшифровываю. Скажите реплику короче или разбейте её на несколько.
voice-too-big = Файл больше { $mb } МБ: такие Telegram не отдаёт ботам. Запишите реплику короче или напишите её текстом.
voice-transcription-failed =
    Не получилось расшифровать голосовое: сервис распознавания речи сейчас не отвечает.
    Реплика сохранена — нажмите «Повторить» чуть позже или напишите её текстом.
voice-download-failed =
    Telegram не отдал файл голосового.
    Реплика сохранена — нажмите «Повторить» чуть позже или напишите её текстом.
voice-retry-button = 🔁 Повторить
voice-not-supported = Сервер ИИ, к которому подключён тренажёр, не распознаёт голосовые. Пишите реплики текстом — тренировка идёт как обычно.
voice-moved-on = Диалог уже ушёл дальше — это голосовое осталось без ответа клиента.
voice-retry-done = Это голосовое уже расшифровано.

## Голос клиента (/voice)
voice-mode-title = Как отвечает клиент сейчас: { $state }.
voice-mode-state-on = голосовыми, текст под ними
voice-mode-state-off = текстом
voice-mode-state-auto = как в сценарии: голосом в звонках, текстом в переписке
voice-mode-set-on = Готово: клиент отвечает голосовыми, а текст ответа остаётся под ними.
voice-mode-set-off = Готово: клиент отвечает текстом.
voice-mode-set-auto = Готово: клиент отвечает голосом в сценариях-звонках ({ $titles }), текстом — в остальных.
voice-mode-set-auto-none = Готово: клиент отвечает так, как задано в сценарии (сейчас во всех — текстом).
button-voice-on = 🔊 Голосом
button-voice-off = 💬 Текстом
button-voice-auto = Как в сценарии
command-voice = Голос клиента: голосовыми или текстом

## Оценка: как звучал менеджер
evaluation-delivery = Как вы звучали
evaluation-delivery-rate = Темп: { $wpm } слов в минуту — { $verdict }.
evaluation-delivery-rate-slow = медленно, звучит неуверенно
evaluation-delivery-rate-comfortable = комфортно для телефонного разговора
evaluation-delivery-rate-fast = быстро, клиенту трудно успевать
evaluation-delivery-rate-unknown = Темп: голосовые слишком короткие, чтобы его измерить.
evaluation-delivery-fillers = Слова-паразиты ({ $total }): { $list }.
evaluation-delivery-no-fillers = Слов-паразитов не слышно — отлично.
evaluation-delivery-monologues = Длинных монологов (дольше { $seconds } с): { $count }, самый длинный — { $longest } с. Говорите короче и давайте клиенту ответить.
evaluation-delivery-no-monologues = Длинных монологов нет: самая длинная реплика — { $longest } с.
