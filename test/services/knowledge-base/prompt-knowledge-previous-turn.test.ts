import { afterEach, describe, expect, it, vi } from 'vitest';
import { knowledgeForPrompts, type DialogueTurn } from '../../../src/services/knowledge-base/prompt-knowledge.js';
import type { Passage, Retriever } from '../../../src/services/knowledge-base/retriever.js';

const trainee = (content: string): DialogueTurn => ({ role: 'user', content });
const client = (content: string): DialogueTurn => ({ role: 'assistant', content });

/** A retriever over one passage per query text, counting what it was asked; `down` answers [] as an outage does. */
function countingRetriever() {
  const asked: string[] = [];
  let down = false;
  const retriever: Retriever = {
    search: (query) => {
      asked.push(query);
      const passage: Passage = {
        text: `О «${query}»`,
        file: 'faq.md',
        headingPath: [query],
        position: asked.length,
        audience: 'public',
        score: 1 / 61,
      };
      return Promise.resolve(down ? [] : [passage]);
    },
    reachable: () => !down,
  };
  return {
    retriever,
    asked,
    goDown: (value: boolean) => {
      down = value;
    },
  };
}

describe("the client's knowledge, turn after turn", () => {
  it('searches only the newest turn when the one before was searched on the previous turn, and shows both', async () => {
    const { retriever, asked } = countingRetriever();
    const knowledge = knowledgeForPrompts(retriever);
    await knowledge.forClient([client('Алло?'), trainee('Сколько стоит «Бизнес»?')]);
    const block = await knowledge.forClient([
      client('Алло?'),
      trainee('Сколько стоит «Бизнес»?'),
      client('Слушаю.'),
      trainee('А выезд инженера?'),
    ]);
    expect(asked).toEqual(['Сколько стоит «Бизнес»?', 'А выезд инженера?']);
    expect(block).toContain('О «А выезд инженера?»');
    expect(block).toContain('О «Сколько стоит «Бизнес»?»');
    expect(block.indexOf('А выезд инженера?')).toBeLessThan(block.indexOf('Сколько стоит «Бизнес»?'));
  });

  it('always searches the newest turn, even one said before', async () => {
    const { retriever, asked } = countingRetriever();
    const knowledge = knowledgeForPrompts(retriever);
    await knowledge.forClient([trainee('Дорого')]);
    await knowledge.forClient([trainee('Дорого'), client('Почему?'), trainee('Дорого')]);
    expect(asked).toEqual(['Дорого', 'Дорого']);
  });

  it('searches the earlier turn again when its answer came while the knowledge base was down', async () => {
    const { retriever, asked, goDown } = countingRetriever();
    const knowledge = knowledgeForPrompts(retriever);
    goDown(true);
    expect(await knowledge.forClient([trainee('Сколько стоит «Бизнес»?')])).toBe('');
    goDown(false);
    const block = await knowledge.forClient([trainee('Сколько стоит «Бизнес»?'), client('Слушаю.'), trainee('А за год?')]);
    expect(asked).toEqual(['Сколько стоит «Бизнес»?', 'А за год?', 'Сколько стоит «Бизнес»?']);
    expect(block).toContain('О «Сколько стоит «Бизнес»?»');
  });

  describe('a search started ahead of storing the line', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('starts at once and serves the turn whose newest line it is, once', async () => {
      const { retriever, asked } = countingRetriever();
      const knowledge = knowledgeForPrompts(retriever);
      knowledge.searchAhead('Сколько стоит «Бизнес»?');
      expect(asked).toEqual(['Сколько стоит «Бизнес»?']);
      const block = await knowledge.forClient([client('Алло?'), trainee('Сколько стоит «Бизнес»?')]);
      expect(block).toContain('О «Сколько стоит «Бизнес»?»');
      expect(asked).toEqual(['Сколько стоит «Бизнес»?']);
      // Taken: the same line said again later is searched again.
      await knowledge.forClient([trainee('Сколько стоит «Бизнес»?'), client('Слушаю.'), trainee('Сколько стоит «Бизнес»?')]);
      expect(asked).toEqual(['Сколько стоит «Бизнес»?', 'Сколько стоит «Бизнес»?']);
    });

    it('is not used 30 s later: the line is searched again', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const { retriever, asked } = countingRetriever();
      const knowledge = knowledgeForPrompts(retriever);
      knowledge.searchAhead('Дорого');
      vi.setSystemTime(Date.now() + 30_001);
      await knowledge.forClient([trainee('Дорого')]);
      expect(asked).toEqual(['Дорого', 'Дорого']);
    });

    it('is not started for an empty line, nor twice for the same line', () => {
      const { retriever, asked } = countingRetriever();
      const knowledge = knowledgeForPrompts(retriever);
      knowledge.searchAhead('   ');
      knowledge.searchAhead('Дорого');
      knowledge.searchAhead('Дорого');
      expect(asked).toEqual(['Дорого']);
    });
  });
});
