import { describe, expect, it } from 'vitest';
import { analyseDelivery, countFillers, countWords, describeDeliveryForJudge, rateVerdict } from '../../src/services/delivery.js';

describe('how a trainee sounded', () => {
  it('counts filler words as whole words only, whatever the case', () => {
    const counts = countFillers('Ну, типа… Короче, э-э, как бы это сказать. Нужно ну очень. Типография и Нуреев не в счёт.');
    expect(Object.fromEntries(counts)).toEqual({ ну: 2, 'как бы': 1, 'э-э': 1, типа: 1, короче: 1 });
  });

  it('does not count «как бы» in a real question', () => {
    expect(countFillers('Как бы вы хотели получать отчёты?').size).toBe(0);
  });

  it('measures the speaking rate from the words and Telegram’s durations', () => {
    const delivery = analyseDelivery([
      { text: 'Добрый день, меня зовут Анна, компания «Сделка+».', seconds: 3 },
      { text: 'Ну, скажите, сколько заявок приходит к вам в выходные?', seconds: 4 },
    ])!;
    expect(delivery.words).toBe(7 + 9);
    expect(delivery.spokenSeconds).toBe(7);
    expect(delivery.wordsPerMinute).toBe(Math.round((16 / 7) * 60));
    expect(delivery.fillers).toEqual([{ word: 'ну', count: 1 }]);
    expect(delivery.longMonologues).toBe(0);
    expect(delivery.longestSeconds).toBe(4);
  });

  it('a 0-second note gives no rate rather than a division by zero', () => {
    const delivery = analyseDelivery([{ text: 'Да', seconds: 0 }])!;
    expect(delivery.wordsPerMinute).toBeNull();
    expect(describeDeliveryForJudge(delivery)).toContain('темп не измерен');
  });

  it('counts turns longer than 45 seconds as monologues', () => {
    const long = 'Мы работаем с сетями салонов по всей стране. '.repeat(15);
    const delivery = analyseDelivery([
      { text: long, seconds: 70 },
      { text: 'Удобно?', seconds: 1 },
    ])!;
    expect(delivery.longMonologues).toBe(1);
    expect(delivery.longestSeconds).toBe(70);
  });

  it('says nothing when nothing was spoken', () => {
    expect(analyseDelivery([])).toBeUndefined();
  });

  it('names a pace slow, comfortable or fast', () => {
    expect([90, 140, 200].map(rateVerdict)).toEqual(['slow', 'comfortable', 'fast']);
    expect(countWords('во-первых, 14 дней — бесплатно')).toBe(4);
  });
});
