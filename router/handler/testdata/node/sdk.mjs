// sdk.mjs drives a Switchyard gateway with OpenAI's official Node SDK and
// prints one JSON object of what the SDK saw, for TestNodeSDK to check.
//
// Environment: SWITCHYARD_BASE_URL (the gateway's /v1 URL),
// SWITCHYARD_API_KEY, SWITCHYARD_NODE_MODULES (a node_modules directory
// holding the openai package; ES modules ignore NODE_PATH, so it is loaded
// through createRequire).
import { createRequire } from 'node:module';
import { join } from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`sdk.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const baseURL = env('SWITCHYARD_BASE_URL');
const apiKey = env('SWITCHYARD_API_KEY');
const require = createRequire(join(env('SWITCHYARD_NODE_MODULES'), 'sdk.cjs'));
const sdk = require('openai');
const { OpenAI, toFile } = sdk;

// counting wraps fetch to count the HTTP requests the SDK makes (its own
// retries included).
function counting() {
  const c = { requests: 0 };
  c.fetch = (url, init) => {
    c.requests++;
    return fetch(url, init);
  };
  return c;
}

// client is an SDK client on the gateway; maxRetries 0 unless asked, so
// that an error is the gateway's first answer.
function client(opts = {}) {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000, ...opts });
}

// errorOf describes an error as the SDK classified it.
function errorOf(err) {
  const out = { class: err?.constructor?.name ?? typeof err, message: String(err?.message ?? err) };
  if (err instanceof sdk.APIError) {
    Object.assign(out, {
      apiError: true,
      status: err.status ?? null,
      code: err.code ?? null,
      type: err.type ?? null,
      param: err.param ?? null,
      bodyMessage: err.error?.message ?? null,
      retryAfter: err.headers?.get('retry-after') ?? null,
      shouldRetry: err.headers?.get('x-should-retry') ?? null,
      notFound: err instanceof sdk.NotFoundError,
      badRequest: err instanceof sdk.BadRequestError,
      rateLimit: err instanceof sdk.RateLimitError,
      server: err instanceof sdk.InternalServerError,
    });
  }
  return out;
}

// step runs fn, recording its result or the error it threw.
const results = {};
async function step(name, fn) {
  try {
    results[name] = { ok: true, ...(await fn()) };
  } catch (err) {
    results[name] = { ok: false, error: errorOf(err) };
  }
}

const c = client();
const hello = [{ role: 'user', content: 'hello there' }];

await step('chat', async () => {
  const r = await c.chat.completions.create({ model: 'gpt-4o', messages: hello });
  return { text: r.choices[0].message.content, finish: r.choices[0].finish_reason, totalTokens: r.usage?.total_tokens ?? 0 };
});

await step('chatStream', async () => {
  const s = await c.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'stream me please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', chunks = 0, contentChunks = 0, finish = null, totalTokens = 0;
  for await (const chunk of s) {
    chunks++;
    const choice = chunk.choices[0];
    if (choice?.delta?.content) {
      contentChunks++;
      text += choice.delta.content;
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) totalTokens = chunk.usage.total_tokens;
  }
  return { text, chunks, contentChunks, finish, totalTokens };
});

await step('chatStreamHelper', async () => {
  // The SDK's own stream assembler (ChatCompletionStream).
  const s = c.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'assemble me' }] });
  const final = await s.finalChatCompletion();
  return { text: final.choices[0].message.content, finish: final.choices[0].finish_reason };
});

await step('embeddings', async () => {
  // The SDK asks for base64 unless told otherwise and decodes it.
  const r = await c.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
  return { count: r.data.length, index1: r.data[1].index, beta: r.data[1].embedding };
});

await step('embeddingsFloat', async () => {
  const r = await c.embeddings.create({ model: 'text-embedding-3-small', input: 'beta', encoding_format: 'float' });
  return { count: r.data.length, beta: r.data[0].embedding };
});

await step('responses', async () => {
  const r = await c.responses.create({ model: 'gpt-4o', input: 'what is up' });
  return { text: r.output_text, status: r.status };
});

await step('responsesStream', async () => {
  const s = await c.responses.create({ model: 'gpt-4o', input: 'what is up', stream: true });
  const types = [];
  let text = '', completedText = null;
  for await (const ev of s) {
    types.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.completed') completedText = ev.response.output_text ?? null;
  }
  return { text, types, completedText };
});

await step('transcription', async () => {
  const audio = Buffer.alloc(3000, 0x49);
  const file = await toFile(audio, 'speech.mp3', { type: 'audio/mpeg' });
  const r = await c.audio.transcriptions.create({ file, model: 'whisper-1', language: 'en' });
  return { text: r.text };
});

await step('unknownModel', async () => {
  await c.chat.completions.create({ model: 'gpt-5-nope', messages: hello });
  return {};
});

await step('missingModel', async () => {
  await c.chat.completions.create({ messages: hello });
  return {};
});

await step('contextLength', async () => {
  await c.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'a prompt far longer than the tiny window allows' }] });
  return {};
});

// A 429 passed on from the upstream (it cools the only deployment down
// until its retry-after), then the gateway's own 429: every deployment of
// the group is cooling down.
await step('upstreamRateLimit', async () => {
  await c.chat.completions.create({ model: 'cool', messages: hello });
  return {};
});
await step('coolingDown', async () => {
  await c.chat.completions.create({ model: 'cool', messages: hello });
  return {};
});

// The SDK's default retries (2) on a group whose every deployment answers
// 503: the router retried already; the count says whether the SDK
// multiplied the upstream calls.
{
  const counter = counting();
  const r = client({ maxRetries: 2, fetch: counter.fetch });
  await step('retries', async () => {
    await r.chat.completions.create({ model: 'flaky', messages: hello });
    return {};
  });
  results.retries.sdkRequests = counter.requests;
}

process.stdout.write(JSON.stringify(results) + '\n');
