#!/usr/bin/env python3
"""The clinfer_mc accuracy computed from `clinfer score --logprobs`, next to lm-evaluation-harness's.

For each question: context "Question: …\\nAnswer:" and each " choice" are tokenized with
`clinfer tokenize --no-special` (as the harness tokenizes through the server's /tokenize, no
BOS), the choice's log-likelihood is the sum of `clinfer score --logprobs` over its tokens, and
the prediction is the most likely choice. Prints both accuracies and the largest difference
between the harness's per-choice log-likelihoods (from its --log_samples file) and ours; exits 1
unless the accuracies are equal.

    score_with_clinfer.py CLINFER_BINARY DATA.jsonl HARNESS_OUTPUT_DIR
"""
import glob
import json
import subprocess
import sys


def run(binary, *args):
    return json.loads(subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout)


def main():
    binary, data, output = sys.argv[1:4]
    docs = [json.loads(line) for line in open(data)]
    ours, correct = [], 0
    for doc in docs:
        context = run(binary, "tokenize", "--no-special", f"Question: {doc['question']}\nAnswer:")
        scores = []
        for choice in doc["choices"]:
            continuation = run(binary, "tokenize", "--no-special", " " + choice)
            logprobs = run(binary, "score", "--logprobs", "--tokens", json.dumps(context + continuation))["logprobs"]
            scores.append(sum(logprobs[len(context):]))
        ours.append(scores)
        correct += max(range(len(scores)), key=scores.__getitem__) == doc["answer"]
    accuracy = correct / len(docs)

    results = json.load(open(sorted(glob.glob(f"{output}/**/results_*.json", recursive=True))[-1]))
    harness = results["results"]["clinfer_mc"]["acc,none"]
    samples = [json.loads(line) for line in open(sorted(glob.glob(f"{output}/**/samples_clinfer_mc_*.jsonl", recursive=True))[-1])]
    worst = 0.0
    for sample in samples:
        # filtered_resps: one [log-likelihood, is_greedy] per choice (resps may hold them as text).
        theirs = [float(response[0]) for response in sample["filtered_resps"]]
        worst = max(worst, max(abs(a - b) for a, b in zip(theirs, ours[sample["doc_id"]])))
    print(f"clinfer_mc: lm-evaluation-harness acc {harness:.4f}, from `clinfer score` {accuracy:.4f} "
          f"({correct}/{len(docs)}); largest per-choice log-likelihood difference {worst:.2e}")
    sys.exit(0 if abs(harness - accuracy) < 1e-9 else 1)


if __name__ == "__main__":
    main()
