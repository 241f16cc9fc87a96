import type { ProgressChart, TeamChart } from '../../src/services/charts/specs.js';

/** Realistic data for the chart tests and the README's pictures (docs/images). */
const day = (n: number, hour = 10) => new Date(Date.UTC(2026, 10, n, hour));

export const sampleProgress: ProgressChart = {
  timeZone: 'Europe/Moscow',
  passScore: 70,
  points: [
    { at: day(3), score: 48, scenario: 'Холодный звонок', level: 'Лёгкий' },
    { at: day(5), score: 61, scenario: 'Холодный звонок', level: 'Лёгкий' },
    { at: day(9), score: 74, scenario: 'Холодный звонок', level: 'Лёгкий' },
    { at: day(12), score: 52, scenario: 'Холодный звонок', level: 'Сложный' },
    { at: day(18), score: 66, scenario: 'Холодный звонок', level: 'Сложный' },
    { at: day(6), score: 70, scenario: 'Расширение тарифа', level: 'Лёгкий' },
    { at: day(14), score: 81, scenario: 'Расширение тарифа', level: 'Лёгкий' },
    { at: day(20), score: 77, scenario: 'Расширение тарифа', level: 'Сложный' },
  ],
  criteria: [
    { criterion: 'Установление контакта', score: 82, level: 'Сложный' },
    { criterion: 'Выявление потребностей', score: 64, level: 'Сложный' },
    { criterion: 'Презентация', score: 71, level: 'Сложный' },
    { criterion: 'Работа с возражениями', score: 55, level: 'Сложный' },
    { criterion: 'Закрытие сделки', score: 73, level: 'Сложный' },
  ],
  labels: {
    title: 'Баллы по тренировкам',
    criteriaTitle: 'Последний балл по каждому критерию',
    date: 'Дата',
    score: 'Баллы',
    scenario: 'Сценарий',
    level: 'Уровень',
    passMark: 'Проходной балл',
  },
};

export const sampleTeam: TeamChart = {
  passScore: 70,
  criteria: [
    { criterion: 'Установление контакта', average: 78, count: 14 },
    { criterion: 'Выявление потребностей', average: 61, count: 14 },
    { criterion: 'Презентация', average: 72, count: 12 },
    { criterion: 'Работа с возражениями', average: 58, count: 14 },
    { criterion: 'Закрытие сделки', average: 69, count: 11 },
  ],
  labels: {
    title: 'Команда: средний балл по критериям',
    average: 'Средний балл',
    passMark: 'Проходной балл',
    below: 'ниже проходного',
    above: 'не ниже проходного',
  },
};
