#!/usr/bin/env python3
"""Talks to a running clinfer-server with the official `openai` Python client (pip install openai):
chat (non-streamed and streamed, with usage), text completions (both ways), embeddings (float and
base64), the model list, and the client's error types for a 404 and a 400. Exits non-zero on the
first mismatch.

    python3 scripts/openai-client-check.py --base-url http://127.0.0.1:8080/v1
"""
import argparse
import json
import math
import sys

import openai


def check(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")
    print(f"ok: {message}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--api-key", default="none", help="the server's --api-key, if it has one")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=120)

    models = [model.id for model in client.models.list()]
    check(len(models) >= 1, f"models.list: {models}")
    chat_model = models[0]
    embedding_model = models[1] if len(models) > 1 else None

    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]
    reply = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=12, temperature=0)
    check(reply.object == "chat.completion" and reply.choices[0].message.role == "assistant", "chat.completions.create")
    check(reply.choices[0].finish_reason in ("stop", "length"), f"finish_reason {reply.choices[0].finish_reason}")
    check(reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens and reply.usage.completion_tokens > 0,
          f"usage {reply.usage.prompt_tokens} + {reply.usage.completion_tokens}")
    text = reply.choices[0].message.content

    stream = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=12, temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    check("".join(pieces) == text, f"streamed chat equals the non-streamed reply ({text!r})")
    check(finish == reply.choices[0].finish_reason and usage is not None and usage.completion_tokens == reply.usage.completion_tokens,
          "streamed finish_reason and usage")

    completion = client.completions.create(model=chat_model, prompt="The capital of France is", max_tokens=8, temperature=0, stop=["\n\n"])
    check(completion.object == "text_completion" and isinstance(completion.choices[0].text, str), f"completions.create: {completion.choices[0].text!r}")
    streamed = "".join(chunk.choices[0].text for chunk in client.completions.create(
        model=chat_model, prompt="The capital of France is", max_tokens=8, temperature=0, stop=["\n\n"], stream=True) if chunk.choices)
    check(streamed == completion.choices[0].text, "streamed completion equals the non-streamed one")

    # Log-probabilities, parsed by the client's own types.
    scored = client.completions.create(model=chat_model, prompt="The capital of France is", max_tokens=3, temperature=0,
                                       logprobs=3, echo=True)
    lp = scored.choices[0].logprobs
    check(lp.token_logprobs[0] is None and all(v < 0 for v in lp.token_logprobs[1:]) and len(lp.tokens) == len(lp.text_offset)
          and all(len(top) <= 3 for top in lp.top_logprobs[1:]), f"completions logprobs with echo: {len(lp.tokens)} tokens")
    check(scored.choices[0].text[lp.text_offset[1]:].startswith(lp.tokens[1]), "text_offset points at each token")
    chat_lp = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=6, temperature=0,
                                             logprobs=True, top_logprobs=2)
    content = chat_lp.choices[0].logprobs.content
    check(len(content) == chat_lp.usage.completion_tokens and all(len(t.top_logprobs) == 2 and t.bytes for t in content)
          and abs(content[0].top_logprobs[0].logprob - content[0].logprob) < 1e-6, "chat logprobs: ChatCompletionTokenLogprob entries")
    streamed_lp = [t for chunk in client.chat.completions.create(
        model=chat_model, messages=messages, max_tokens=6, temperature=0, logprobs=True, stream=True)
        for choice in chunk.choices if choice.logprobs and choice.logprobs.content for t in choice.logprobs.content]
    check([t.token for t in streamed_lp] == [t.token for t in content], "streamed chat logprobs equal the non-streamed ones")

    # n > 1 and structured output, parsed by the client.
    several = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=6, temperature=0.9, seed=5, n=2)
    check(sorted(choice.index for choice in several.choices) == [0, 1]
          and several.usage.prompt_tokens == reply.usage.prompt_tokens, "n = 2: two choices, the prompt counted once")
    schema = {"type": "object", "properties": {"colour": {"type": "string", "maxLength": 12}, "warm": {"type": "boolean"}},
              "required": ["colour", "warm"], "additionalProperties": False}
    structured = client.chat.completions.create(
        model=chat_model, messages=messages, max_tokens=40, temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "colour", "schema": schema, "strict": True}})
    value = json.loads(structured.choices[0].message.content)
    check(isinstance(value.get("colour"), str) and isinstance(value.get("warm"), bool),
          f"response_format json_schema: {structured.choices[0].message.content}")

    if embedding_model:
        inputs = ["A man is playing a guitar.", "Someone plays music.", "The stock market fell."]
        floats = client.embeddings.create(model=embedding_model, input=inputs, encoding_format="float")
        vectors = [item.embedding for item in floats.data]
        check(len(vectors) == 3 and all(len(v) == len(vectors[0]) for v in vectors), f"embeddings.create: 3 x {len(vectors[0])}")
        cosine = lambda a, b: sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
        check(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]), "related sentences are closer than unrelated ones")
        # The client asks for base64 by default and decodes it itself.
        default = client.embeddings.create(model=embedding_model, input=inputs[0])
        check(max(abs(a - b) for a, b in zip(default.data[0].embedding, vectors[0])) < 1e-6, "base64 embeddings decode to the float ones")
        check(floats.usage.prompt_tokens > 0, f"embedding usage: {floats.usage.prompt_tokens} tokens")

    try:
        client.chat.completions.create(model="no-such-model", messages=messages)
        check(False, "an unknown model raises")
    except openai.NotFoundError as error:
        check(error.status_code == 404 and error.code == "model_not_found", "unknown model: openai.NotFoundError model_not_found")
    try:
        client.chat.completions.create(model=chat_model, messages=messages, temperature=5)
        check(False, "temperature 5 raises")
    except openai.BadRequestError as error:
        check(error.status_code == 400 and error.param == "temperature", "temperature 5: openai.BadRequestError naming the parameter")
    print("openai client check: all passed")


if __name__ == "__main__":
    main()
