"""The official `openai` Python package as a real client of a running tokenhub.

Usage: python3 openai_client.py BASE_URL MODEL
Prints one JSON object: the completion's content, model and usage, and the streamed text.
"""
import json
import sys

from openai import OpenAI


def main() -> None:
    base_url, model = sys.argv[1], sys.argv[2]
    client = OpenAI(base_url=base_url + "/v1", api_key="not-needed-locally", max_retries=0)
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hello from python"}], max_tokens=32
    )
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "stream please"}], stream=True
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    try:
        client.chat.completions.create(model=model, messages=[])
        error = None
    except Exception as exc:  # the SDK raises BadRequestError with our message
        error = {"type": type(exc).__name__, "message": str(exc)}
    # TokenHub's strict pin, sent the way the SDK sends extensions: a model that is not
    # registered fails (404 model_not_found, NotFoundError) instead of being routed elsewhere.
    try:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}], extra_body={"model_strict": True}
        )
        strict = None
    except Exception as exc:
        strict = {"type": type(exc).__name__, "message": str(exc)}
    lenient = client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    print(json.dumps({
        "content": completion.choices[0].message.content,
        "model": completion.model,
        "total_tokens": completion.usage.total_tokens,
        "stream": "".join(pieces),
        "error": error,
        "strict": strict,
        "lenient_model": lenient.model,
    }))


if __name__ == "__main__":
    main()
