// The AI plugin's provider (docs/plugins.md#ai). This file is yours: ssot wrote it once and leaves
// it alone from now on.
//
// By default any OpenAI-compatible API — OpenAI, OpenRouter, Ollama, LM Studio, xAI — through the
// official `openai` package: AI_BASE_URL (empty: OpenAI's) and AI_API_KEY (may be empty for a
// local server such as Ollama once AI_BASE_URL is set). For another API (Anthropic, Gemini),
// return a `Provider` of your own that calls it. `null`: no provider (the AI routes answer 503).

import OpenAI from "openai";
import type { Provider } from "./ai.js";

export function provider(): Provider | null {
  const baseURL = process.env.AI_BASE_URL || undefined;
  const apiKey = process.env.AI_API_KEY || (baseURL !== undefined ? "unused" : "");
  if (apiKey === "") return null;
  const client = new OpenAI({
    apiKey,
    baseURL,
    maxRetries: 1,
    timeout: Number(process.env.AI_TIMEOUT_MS || 30_000),
  });
  return {
    async chat({ model, messages }) {
      const completion = await client.chat.completions.create({ model, messages });
      return completion.choices[0]?.message.content ?? "";
    },
    async embed({ model, input }) {
      // Floats, not the package's default base64: not every compatible server speaks it.
      const result = await client.embeddings.create({ model, input, encoding_format: "float" });
      return result.data[0]?.embedding ?? [];
    },
  };
}
