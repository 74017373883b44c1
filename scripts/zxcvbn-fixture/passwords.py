"""The passwords of fixtures/zxcvbn-upstream-3.1.1.tsv, `username TAB password` a line, from a
fixed seed: dictionary words (zxcvbn's own lists, read from the crate's source) joined and
capitalised, with digits; words in l33t; random characters; reversed words with years; dates;
keyboard walks; the username inside; l33t characters only (the costly case); the bench's
passwords. Usage: python3 passwords.py ZXCVBN_SRC_DIR > passwords.tsv"""
import glob
import random
import re
import sys

random.seed(17)
src = open(glob.glob(sys.argv[1] + "/src/frequency_lists.rs")[0]).read()
lists = {n: b.split(",") for n, b in re.findall(r'const (\w+): &str = "([^"]*)"', src)}
words = [w for l in lists.values() for w in l[:3000]]
leet = {"a": "4@", "b": "8", "c": "({[<", "e": "3", "g": "69", "i": "1!|", "l": "1|7",
        "o": "0", "s": "$5", "t": "+7", "x": "%", "z": "2"}
syms = "!@#$%^&*()-_=+[]{};:,.<>/?|~`'\" "
users = ["alice", "bob", "u1", "bench-c3", "Ølaf", "maria", "admin"]


def leetify(w, p):
    return "".join(random.choice(leet[c]) if c in leet and random.random() < p else c for c in w)


def make():
    k = random.random()
    if k < 0.25:
        parts = [random.choice(words) for _ in range(random.randint(1, 4))]
        s = random.choice(["", "-", "_", " ", ".", ""]).join(parts)
        if random.random() < 0.5:
            s = s.capitalize()
        if random.random() < 0.5:
            s += str(random.randint(0, 9999))
        return s
    if k < 0.45:
        n = random.randint(1, 3)
        return random.choice(["", "-", ""]).join(
            leetify(random.choice(words), random.random()) for _ in range(n))
    if k < 0.6:
        alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + syms
        return "".join(random.choice(alpha) for _ in range(random.randint(1, 32)))
    if k < 0.7:
        return random.choice(words)[::-1] + str(random.randint(1900, 2030))
    if k < 0.78:
        d, m, y = random.randint(1, 28), random.randint(1, 12), random.randint(1950, 2030)
        return random.choice([f"{d:02d}{m:02d}{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}"]) + \
            random.choice(words)
    if k < 0.85:
        walk = random.choice(["qwerty", "asdfgh", "zxcvbn", "1qaz2wsx", "qazwsx", "poiuyt",
                              "147258369", "abcdef", "123456"])
        return walk * random.randint(1, 3) + random.choice(words)
    if k < 0.92:
        return random.choice(users) + random.choice(words) + str(random.randint(0, 99))
    return "".join(random.choice("4@8({[<369!1|0$5+7%2" + "aeilost")
                   for _ in range(random.randint(4, 24)))


out, seen = [], set()
while len(out) < 4000:
    p = make()[:32]
    if not p or "\t" in p or "\n" in p or p in seen:
        continue
    seen.add(p)
    out.append((random.choice(users), p))
for n in range(0, 40):
    out.append(("u1", f"Vq7!u1-mauve-otter-{n}"))
    out.append(("bench-c3", f"Vq7!bench-c3-mauve-otter-{n}"))
sys.stdout.write("".join(f"{u}\t{p}\n" for u, p in out))
