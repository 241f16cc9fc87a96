import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * A tiny embedding model that the suite generates, so no weights are ever downloaded.
 *
 * It has the files and layout of a real transformers.js BERT-style model (config.json,
 * tokenizer.json, tokenizer_config.json, onnx/model.onnx), so it loads through exactly the code path
 * of the real model. The ONNX graph is an embedding lookup: `last_hidden_state = table[input_ids] *
 * attention_mask`; transformers.js then mean-pools and normalises, as it does for e5.
 *
 * A token's vector is its word stem's direction scaled by the stem's IDF over the given texts, so the
 * sentence vector is TF-IDF over crudely stemmed Russian words:
 * - `one-hot` (default): one dimension per stem, computed in the graph with OneHot, so the file stays
 *   small and unrelated texts score exactly 0: the kind for tests that assert similarity;
 * - `random`: a seeded random direction per stem in `dimension` (384, like multilingual-e5-small)
 *   dimensions, stored as a table: the shape of the real model, for timing.
 */
export interface TinyModel {
  /** Absolute path of the model folder: what EMBEDDING_MODEL would hold. */
  readonly path: string;
  readonly dimension: number;
  readonly vocabularySize: number;
  /** Removes the folder (and its temporary parent, when the folder was made here). */
  cleanup(): Promise<void>;
}

export interface TinyModelOptions {
  /** The texts whose words make the vocabulary and the IDF weights. */
  readonly texts: readonly string[];
  readonly kind?: 'one-hot' | 'random';
  /** For `random`: 384, like multilingual-e5-small, unless told. */
  readonly dimension?: number;
  /** Folder name; its family decides the query/passage prefixes (no `e5` in it: none). */
  readonly name?: string;
  /** Parent folder; a fresh temporary folder when absent. */
  readonly parentDir?: string;
  readonly seed?: number;
}

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

// The pre-tokenizer of BERT (and of transformers.js): split on whitespace and on punctuation.
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORD_PATTERN = new RegExp(`[^\\s${PUNCTUATION}]+`, 'gu');

// Common Russian inflectional endings, longest first: a stand-in for a real stemmer.
const ENDINGS = [
  'иями',
  'ями',
  'ами',
  'ого',
  'его',
  'ому',
  'ему',
  'ыми',
  'ими',
  'ться',
  'ешь',
  'ишь',
  'ете',
  'ите',
  'ая',
  'яя',
  'ое',
  'ее',
  'ые',
  'ие',
  'ой',
  'ей',
  'ий',
  'ый',
  'ом',
  'ем',
  'ам',
  'ям',
  'ах',
  'ях',
  'ов',
  'ев',
  'ию',
  'ия',
  'ии',
  'ть',
  'ет',
  'ит',
  'ут',
  'ют',
  'ат',
  'ят',
  'ся',
  'а',
  'я',
  'о',
  'е',
  'ы',
  'и',
  'у',
  'ю',
  'ь',
  'й',
].sort((a, b) => b.length - a.length);

/** Lower-cased words as the model's tokenizer will see them. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(WORD_PATTERN) ?? [];
}

/** A crude Russian stem: the word without one common ending, never shorter than three letters. */
export function stemOf(word: string): string {
  for (const ending of ENDINGS) {
    if (word.endsWith(ending) && word.length - ending.length >= 3) return word.slice(0, -ending.length);
  }
  return word;
}

/** Generates the model into a folder and returns where it is. */
export async function createTinyModel(options: TinyModelOptions): Promise<TinyModel> {
  const parentDir = options.parentDir ?? (await mkdtemp(path.join(tmpdir(), 'tiny-model-')));
  const modelDir = path.join(parentDir, options.name ?? 'tiny-bow');
  await mkdir(path.join(modelDir, 'onnx'), { recursive: true });

  const vocabulary = buildVocabulary(options.texts);
  const idf = inverseDocumentFrequencies(options.texts);
  const graph =
    options.kind === 'random'
      ? randomProjectionGraph(vocabulary, idf, options.dimension ?? 384, options.seed ?? 42)
      : oneHotGraph(vocabulary, idf);
  const { dimension } = graph;
  await Promise.all([
    writeFile(path.join(modelDir, 'onnx', 'model.onnx'), encodeModel(graph)),
    writeFile(path.join(modelDir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocabulary.tokens))),
    writeFile(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig())),
    writeFile(path.join(modelDir, 'config.json'), JSON.stringify(modelConfig(vocabulary.tokens.length, dimension))),
  ]);
  return {
    path: modelDir,
    dimension,
    vocabularySize: vocabulary.tokens.length,
    cleanup: () => rm(options.parentDir ? modelDir : parentDir, { recursive: true, force: true }),
  };
}

interface Vocabulary {
  readonly tokens: readonly string[];
  /** The stem whose direction a token carries; undefined for tokens that carry none. */
  readonly stemOfToken: ReadonlyMap<string, string>;
}

function buildVocabulary(texts: readonly string[]): Vocabulary {
  const tokens = new Set<string>(SPECIAL_TOKENS);
  const stemOfToken = new Map<string, string>();
  const characters = new Set<string>();
  for (const text of texts) {
    for (const word of wordsOf(text)) {
      for (const character of word) characters.add(character);
      const stem = stemOf(word);
      // The whole word and its stem both map to the stem: an unseen inflection is split by WordPiece
      // into the longest known prefix plus `##ending` pieces, which carry no direction.
      tokens.add(word);
      tokens.add(stem);
      stemOfToken.set(word, stem);
      stemOfToken.set(stem, stem);
    }
  }
  for (const character of characters) {
    tokens.add(character);
    tokens.add(`##${character}`);
  }
  return { tokens: [...tokens], stemOfToken };
}

interface GraphSpec {
  readonly dimension: number;
  readonly graph: onnxProto.onnx.IGraphProto;
}

const { TensorProto, AttributeProto } = onnx;
const INT = AttributeProto.AttributeType.INT;

function graphInputs(): onnxProto.onnx.IValueInfoProto[] {
  const shape = { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] };
  return ['input_ids', 'attention_mask'].map((name) => ({
    name,
    type: { tensorType: { elemType: TensorProto.DataType.INT64, shape } },
  }));
}

function graphOutput(dimension: number): onnxProto.onnx.IValueInfoProto {
  const shape = { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: dimension }] };
  return { name: 'last_hidden_state', type: { tensorType: { elemType: TensorProto.DataType.FLOAT, shape } } };
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function int64Tensor(name: string, dims: number[], values: readonly number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: TensorProto.DataType.INT64, int64Data: [...values] };
}

/** The mask as float [batch, sequence]: padding contributes nothing. */
const MASK_NODES: onnxProto.onnx.INodeProto[] = [
  {
    opType: 'Cast',
    input: ['attention_mask'],
    output: ['mask_float'],
    attribute: [{ name: 'to', type: INT, i: TensorProto.DataType.FLOAT }],
  },
];

/**
 * `last_hidden_state[b, s] = OneHot(stem[input_ids[b, s]]) * idf[input_ids[b, s]] * mask[b, s]`.
 * Tokens without a stem point at an extra last dimension with weight 0 ([CLS]: a tiny weight, so a
 * text of unknown words still has a direction and normalising never divides by zero).
 */
function oneHotGraph(vocabulary: Vocabulary, idf: ReadonlyMap<string, number>): GraphSpec {
  const stems = [...new Set(vocabulary.stemOfToken.values())];
  const stemIndex = new Map(stems.map((stem, index) => [stem, index]));
  const spare = stems.length;
  const stemOfToken = vocabulary.tokens.map((token) => {
    const stem = vocabulary.stemOfToken.get(token);
    return stem === undefined ? spare : stemIndex.get(stem)!;
  });
  const weights = new Float32Array(
    vocabulary.tokens.map((token) => {
      if (token === '[CLS]') return 1e-3;
      const stem = vocabulary.stemOfToken.get(token);
      return stem === undefined ? 0 : (idf.get(stem) ?? 0);
    }),
  );
  const dimension = stems.length + 1;
  return {
    dimension,
    graph: {
      name: 'tiny-one-hot-tfidf',
      input: graphInputs(),
      output: [graphOutput(dimension)],
      initializer: [
        int64Tensor('stem_of_token', [stemOfToken.length], stemOfToken),
        floatTensor('weight_of_token', [weights.length], weights),
        int64Tensor('depth', [1], [dimension]),
        floatTensor('off_on', [2], new Float32Array([0, 1])),
        int64Tensor('last_axis', [1], [-1]),
      ],
      node: [
        ...MASK_NODES,
        {
          opType: 'Gather',
          input: ['stem_of_token', 'input_ids'],
          output: ['stems'],
          attribute: [{ name: 'axis', type: INT, i: 0 }],
        },
        {
          opType: 'OneHot',
          input: ['stems', 'depth', 'off_on'],
          output: ['one_hot'],
          attribute: [{ name: 'axis', type: INT, i: -1 }],
        },
        {
          opType: 'Gather',
          input: ['weight_of_token', 'input_ids'],
          output: ['weights'],
          attribute: [{ name: 'axis', type: INT, i: 0 }],
        },
        { opType: 'Mul', input: ['weights', 'mask_float'], output: ['masked_weights'] },
        { opType: 'Unsqueeze', input: ['masked_weights', 'last_axis'], output: ['weights_3d'] },
        { opType: 'Mul', input: ['one_hot', 'weights_3d'], output: ['last_hidden_state'] },
      ],
    },
  };
}

/** `last_hidden_state[b, s] = table[input_ids[b, s]] * mask[b, s]`, rows random directions × IDF. */
function randomProjectionGraph(
  vocabulary: Vocabulary,
  idf: ReadonlyMap<string, number>,
  dimension: number,
  seed: number,
): GraphSpec {
  const random = mulberry32(seed);
  const directions = new Map<string, Float32Array>();
  const table = new Float32Array(vocabulary.tokens.length * dimension);
  vocabulary.tokens.forEach((token, row) => {
    const stem = vocabulary.stemOfToken.get(token);
    if (token === '[CLS]') {
      table[row * dimension] = 1e-3;
      return;
    }
    if (stem === undefined) return;
    let direction = directions.get(stem);
    if (!direction) {
      direction = randomUnitVector(dimension, random);
      directions.set(stem, direction);
    }
    const weight = idf.get(stem) ?? 0;
    for (let i = 0; i < dimension; i += 1) table[row * dimension + i] = direction[i]! * weight;
  });
  return {
    dimension,
    graph: {
      name: 'tiny-random-tfidf',
      input: graphInputs(),
      output: [graphOutput(dimension)],
      initializer: [floatTensor('table', [vocabulary.tokens.length, dimension], table), int64Tensor('last_axis', [1], [-1])],
      node: [
        ...MASK_NODES,
        { opType: 'Gather', input: ['table', 'input_ids'], output: ['embedded'], attribute: [{ name: 'axis', type: INT, i: 0 }] },
        { opType: 'Unsqueeze', input: ['mask_float', 'last_axis'], output: ['mask_3d'] },
        { opType: 'Mul', input: ['embedded', 'mask_3d'], output: ['last_hidden_state'] },
      ],
    },
  };
}

/** IDF of every stem, with paragraphs as documents: frequent words weigh little. */
function inverseDocumentFrequencies(texts: readonly string[]): Map<string, number> {
  const paragraphs = texts.flatMap((text) => text.split(/\n\s*\n/)).filter((p) => p.trim() !== '');
  const documentFrequency = new Map<string, number>();
  for (const paragraph of paragraphs) {
    for (const stem of new Set(wordsOf(paragraph).map(stemOf))) {
      documentFrequency.set(stem, (documentFrequency.get(stem) ?? 0) + 1);
    }
  }
  const idf = new Map<string, number>();
  const total = paragraphs.length;
  for (const [stem, frequency] of documentFrequency) idf.set(stem, Math.log((total + 1) / frequency));
  return idf;
}

function randomUnitVector(dimension: number, random: () => number): Float32Array {
  const vector = new Float32Array(dimension);
  let norm = 0;
  for (let i = 0; i < dimension; i += 1) {
    // Box–Muller: Gaussian components give a direction uniform on the sphere.
    const value = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    vector[i] = value;
    norm += value * value;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dimension; i += 1) vector[i]! /= norm;
  return vector;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An ONNX model (IR 7, opset 13) around the graph. */
function encodeModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'tiny-model (test support)',
    opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create(spec.graph),
  });
  return onnx.ModelProto.encode(model).finish();
}

function tokenizerJson(tokens: readonly string[]) {
  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  const id = (token: string) => vocab[token]!;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    // strip_accents must be false: stripping turns й into и and ё into е.
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

function tokenizerConfig() {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    strip_accents: false,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  };
}

function modelConfig(vocabularySize: number, dimension: number) {
  return {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: dimension,
    num_hidden_layers: 0,
    num_attention_heads: 1,
    intermediate_size: dimension,
    max_position_embeddings: 512,
    vocab_size: vocabularySize,
    type_vocab_size: 1,
    pad_token_id: 0,
  };
}
