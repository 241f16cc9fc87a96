## Оценка: почему такие баллы и что не так с цифрами
evaluation-quote-dropped = ⚠ Цитата судьи не найдена в диалоге — убрана.
evaluation-facts = Факты
evaluation-fact = { $claim } → { $correct } ({ $source })
evaluation-fact-no-source = { $claim } → { $correct }
