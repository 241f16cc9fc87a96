## Картинка прогресса (/stats)
stats-picture-caption = Ваш прогресс: баллы по датам (цвет — сценарий, форма точки — уровень) и последний балл по каждому критерию. Красная линия — проходной балл { $pass }.
stats-chart-title = Баллы по тренировкам
stats-chart-criteria = Последний балл по каждому критерию
stats-chart-date = Дата
stats-chart-score = Баллы
stats-chart-scenario = Сценарий
stats-chart-level = Уровень
stats-chart-pass = Проходной балл
stats-criteria-title = Последний балл по критериям (проходной — { $pass }):
stats-criterion-passed = ✅ { $title }: { $score }
stats-criterion-below = ⚠️ { $title }: { $score } — ниже проходного
