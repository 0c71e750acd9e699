#!/usr/bin/env python3
"""Writes data/digits.csv.gz and data/diabetes.csv.gz: the two small data
sets that scikit-learn ships, for the examples.

The files are committed: the examples and their tests read them and need
neither Python nor a network. Run this only to re-create them, from the
repository root, with scikit-learn 1.9.1 (the version they were extracted
from; the data inside the package has not changed in many releases):

    python3 -m pip install scikit-learn==1.9.1
    python3 scripts/extract_datasets.py

Output (gzip-compressed CSV, one header line, `.` as decimal point):

- digits.csv.gz: 1797 rows of `p0,...,p63,label`. `pK` is the pixel at row
  K // 8, column K % 8 of the 8x8 image, an integer count 0..16;
  `label` is the digit 0..9. As `sklearn.datasets.load_digits()` returns
  them, in its order.
- diabetes.csv.gz: 442 rows of `age,sex,bmi,bp,s1,...,s6,target`. The ten
  features are scikit-learn's standard scaled ones (each column centred and
  divided by its standard deviation times sqrt(442), so that its sum of
  squares is 1), as `sklearn.datasets.load_diabetes()` returns them;
  `target` is the disease progression one year after baseline (about
  25..346). Every float is written with the shortest text that reads back
  as the same float64.

Attribution and licences: data/README.md. The gzip header carries no file
name or time stamp, so re-running gives byte-identical files.
"""

import gzip
import io
from pathlib import Path

import sklearn
from sklearn.datasets import load_diabetes, load_digits

DATA = Path(__file__).resolve().parent.parent / "data"


def write_csv_gz(path, header, rows):
    text = io.StringIO()
    text.write(",".join(header) + "\n")
    for row in rows:
        text.write(",".join(row) + "\n")
    raw = text.getvalue().encode("ascii")
    with open(path, "wb") as f:
        # mtime=0 and no file name: reproducible bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(raw)
    print(f"wrote {path.relative_to(DATA.parent)}: {len(rows)} rows, {path.stat().st_size} bytes")


def digits():
    d = load_digits()
    assert d.data.shape == (1797, 64), d.data.shape
    rows = []
    for pixels, label in zip(d.data, d.target):
        assert all(p == int(p) and 0 <= p <= 16 for p in pixels)
        rows.append([str(int(p)) for p in pixels] + [str(int(label))])
    header = [f"p{k}" for k in range(64)] + ["label"]
    write_csv_gz(DATA / "digits.csv.gz", header, rows)


def diabetes():
    d = load_diabetes()
    assert d.data.shape == (442, 10), d.data.shape
    rows = [[repr(float(v)) for v in x] + [repr(float(y))] for x, y in zip(d.data, d.target)]
    header = list(d.feature_names) + ["target"]
    write_csv_gz(DATA / "diabetes.csv.gz", header, rows)


if __name__ == "__main__":
    print(f"scikit-learn {sklearn.__version__}")
    DATA.mkdir(exist_ok=True)
    digits()
    diabetes()
