## Под оценкой: что дальше
after-evaluation-repeat = 🔁 Повторить
after-evaluation-other = 📋 Другой сценарий
after-evaluation-scenario-gone = Этого сценария больше нет. Выберите другой: /scenarios

## Прошлые оценки (/history)
history-open-hint = Оценку тренировки можно открыть снова — кнопкой ниже.
history-open-button = Открыть: { $date } { $title } — { $score }
history-evaluation-unavailable = Эта оценка недоступна.

## Прогресс по уровням (/stats)
stats-line = • { $title } · { $difficulty }: { $count } × { $average }/100, лучшая { $best }
# Уровень сценария, которого больше нет (у существующего — его собственная подпись).
difficulty-label-easy = Лёгкий
difficulty-label-medium = Средний
difficulty-label-hard = Сложный

## Оценка руководителя рядом с оценкой ИИ (/history)
history-reviewed-score = ИИ { $ai }/100 · руководитель { $score }/100
