"""Unsupervised baseline for agent_behavior: an isolation forest over the
same per agent-day features (records, distinct customers, off-ticket,
self-opened, not-assigned, sensitive fields beyond need, high-value picks,
off-shift, new device, reveals/exports, max records in an hour).

Input: the CSV of `cargo run --release -p custos-behavior --example eval --
--features SEED...` on standard input. One forest per seed (unsupervised,
fitted on every agent-day of the run). Reports, per attack style, the share
of harvests with at least one agent-day flagged:
  - at the forest's own cut (`decision_function < 0`, contamination "auto"),
  - at the score cut that lets at most 1 benign agent-day in 1,000 through
    (chosen with the labels: an upper bound on what the forest could do at
    custos's false-positive target).
"""

import csv
import sys
from collections import defaultdict

import numpy as np
from sklearn.ensemble import IsolationForest

FEATURES = [
    "records", "distinct_customers", "off_ticket", "self_opened", "not_assigned",
    "sensitive_beyond", "high_value", "off_shift", "new_device",
    "reveals_exports", "max_per_hour",
]


def main():
    rows = list(csv.DictReader(sys.stdin))
    by_seed = defaultdict(list)
    for r in rows:
        by_seed[r["seed"]].append(r)
    flagged_auto, flagged_cut, benign_auto, benign_cut, total = set(), set(), 0, 0, 0
    attacks = {}
    for seed, rs in sorted(by_seed.items()):
        x = np.array([[float(r[f]) for f in FEATURES] for r in rs])
        recs = np.maximum(x[:, :1], 1.0)
        # counts as log1p plus shares of the day's records
        x = np.hstack([np.log1p(x), x[:, 2:10] / recs])
        forest = IsolationForest(n_estimators=200, random_state=0).fit(x)
        score = -forest.decision_function(x)  # higher = more anomalous
        labels = np.array([r["attack_id"] != "" for r in rs])
        benign_scores = np.sort(score[~labels])[::-1]
        k = int(len(rs) / 1000)  # at most 1 benign agent-day per 1,000
        cut = benign_scores[k] if k < len(benign_scores) else -np.inf
        total += len(rs)
        for r, s, attack in zip(rs, score, labels):
            if attack:
                attacks[(seed, r["attack_id"])] = r["style"]
                if s > 0:
                    flagged_auto.add((seed, r["attack_id"]))
                if s > cut:
                    flagged_cut.add((seed, r["attack_id"]))
            else:
                benign_auto += s > 0
                benign_cut += s > cut
    styles = sorted(set(attacks.values()))
    print(f"seeds {sorted(by_seed)}: {total} agent-days\n")
    print("| style | attacks | recall, forest's own cut | recall at <= 1 FP agent-day per 1,000 |")
    print("|---|---|---|---|")
    for style in styles + ["all"]:
        ids = [a for a, s in attacks.items() if style in ("all", s)]
        auto = sum(a in flagged_auto for a in ids)
        cut = sum(a in flagged_cut for a in ids)
        print(f"| {style} | {len(ids)} | {auto / len(ids):.2f} ({auto}/{len(ids)}) | {cut / len(ids):.2f} ({cut}/{len(ids)}) |")
    print(
        f"\nbenign agent-days flagged: forest's own cut {benign_auto} "
        f"({1000 * benign_auto / total:.1f} per 1,000); label-chosen cut {benign_cut} "
        f"({1000 * benign_cut / total:.2f} per 1,000)"
    )


if __name__ == "__main__":
    main()
