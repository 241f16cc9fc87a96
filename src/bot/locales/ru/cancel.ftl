## Выход из тренировки без оценки (/cancel)
cancel-confirm = Прервать тренировку «{ $title }» без оценки?
cancel-button-abandon = Прервать
cancel-button-keep = Продолжить
cancel-done = Тренировка «{ $title }» прервана, без оценки. /scenarios — выбрать сценарий.
cancel-kept = Продолжаем «{ $title }».
cancel-already-over = Тренировка «{ $title }» уже закончилась — прерывать нечего. /scenarios — выбрать сценарий.
cancel-question-closed = Этот вопрос уже закрыт. Прервать тренировку: /cancel
command-cancel = Прервать тренировку без оценки
