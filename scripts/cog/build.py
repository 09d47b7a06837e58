#!/usr/bin/env python3
"""Build reference/cog/*.csv.gz from the @etalab/decoupage-administratif npm tarball.

Standard library only (Python >= 3.11). Usage:

    build.py --tarball path/to/etalab-decoupage-administratif-6.0.0.tgz --out reference/cog

The tarball's sha512 integrity is checked against the value pinned below, the
JSON files are read straight from the tarball, every invariant is checked
*before* anything is written, and the gzip output is byte-reproducible
(mtime=0, empty file name, fixed compression level).
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from collections import Counter, defaultdict
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
MILLESIME = 2026
# `npm view @etalab/decoupage-administratif@6.0.0 dist.integrity`
INTEGRITY = (
    "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
)

EXPECTED = {
    "communes": 34_969,
    "epci": 1_255,
    "departments": 109,
    "regions": 26,
}

COLUMNS = {
    "communes": ["code", "name", "department", "region", "epci_siren", "population", "postal_codes"],
    "epci": ["code", "name", "kind", "population", "departments", "regions", "member_count"],
    "departments": ["code", "name", "region", "chef_lieu"],
    "regions": ["code", "name", "chef_lieu"],
}


class BuildError(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise BuildError(msg)


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def read_tarball(path: Path) -> tuple[dict[str, list], str, str]:
    raw = path.read_bytes()
    got = integrity_of(raw)
    check(got == INTEGRITY, f"tarball integrity mismatch:\n  expected {INTEGRITY}\n  got      {got}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                f = tar.extractfile(member)
                assert f is not None
                files[member.name] = f.read()

    def get(name: str) -> bytes:
        key = f"package/{name}"
        check(key in files, f"{key} missing from tarball (has: {sorted(files)})")
        return files[key]

    meta = json.loads(get("package.json"))
    check(meta.get("name") == PACKAGE and meta.get("version") == VERSION,
          f"unexpected package.json name/version: {meta.get('name')}@{meta.get('version')}")
    data = {
        name: json.loads(get(f"data/{name}.json").decode("utf-8"))
        for name in ("communes", "epci", "departements", "regions")
    }
    return data, get("LICENSE").decode("utf-8"), get("README.md").decode("utf-8")


def opt_int(v) -> str:
    if v is None:
        return ""
    check(isinstance(v, int) and not isinstance(v, bool) and v >= 0, f"bad population value {v!r}")
    return str(v)


def build(data: dict[str, list]) -> tuple[dict[str, list[list[str]]], dict]:
    communes_all = data["communes"]
    epcis = data["epci"]
    deps = data["departements"]
    regs = data["regions"]

    # --- regions / departments -------------------------------------------------
    reg_codes = [r["code"] for r in regs]
    dep_codes = [d["code"] for d in deps]
    check(len(set(reg_codes)) == len(reg_codes), "duplicate region codes")
    check(len(set(dep_codes)) == len(dep_codes), "duplicate department codes")
    reg_set, dep_set = set(reg_codes), set(dep_codes)
    for d in deps:
        check(d["region"] in reg_set, f"department {d['code']} has unknown region {d['region']}")

    # --- communes ----------------------------------------------------------------
    type_counts = Counter(c["type"] for c in communes_all)
    communes = [c for c in communes_all if c["type"] == "commune-actuelle"]
    codes = [c["code"] for c in communes]
    dupes = [k for k, n in Counter(codes).items() if n > 1]
    check(not dupes, f"duplicate current commune codes: {dupes[:20]}")
    by_code = {c["code"]: c for c in communes}
    for c in communes:
        check(c["departement"] in dep_set, f"commune {c['code']} has unknown department {c['departement']}")
        check(c["region"] in reg_set, f"commune {c['code']} has unknown region {c['region']}")
    dep_region = {d["code"]: d["region"] for d in deps}
    for c in communes:
        check(dep_region[c["departement"]] == c["region"],
              f"commune {c['code']}: region {c['region']} != region of department {c['departement']}")

    for r in regs:
        check(not r.get("chefLieu") or r["chefLieu"] in by_code, f"region {r['code']} chef-lieu {r.get('chefLieu')} unknown")
    for d in deps:
        check(not d.get("chefLieu") or d["chefLieu"] in by_code, f"department {d['code']} chef-lieu {d.get('chefLieu')} unknown")

    # --- EPCI (commune -> EPCI membership is only given on the EPCI side) ---------
    epci_codes = [e["code"] for e in epcis]
    check(len(set(epci_codes)) == len(epci_codes), "duplicate EPCI codes")
    epci_of: dict[str, str] = {}
    epci_rows = []
    for e in epcis:
        check(len(e["code"]) == 9 and e["code"].isdigit(), f"EPCI code {e['code']!r} is not a SIREN")
        members = e["membres"]
        check(len(members) > 0, f"EPCI {e['code']} has no members")
        mdeps, mregs = set(), set()
        for m in members:
            mc = m["code"]
            check(mc in by_code, f"EPCI {e['code']} member {mc} is not a current commune")
            check(mc not in epci_of, f"commune {mc} in two EPCI: {epci_of.get(mc)} and {e['code']}")
            epci_of[mc] = e["code"]
            mdeps.add(by_code[mc]["departement"])
            mregs.add(by_code[mc]["region"])
        epci_rows.append([
            e["code"], e["nom"], e["type"],
            opt_int(e.get("populationMunicipale")),
            " ".join(sorted(mdeps)), " ".join(sorted(mregs)),
            str(len(members)),
        ])
    for code, siren in epci_of.items():
        check(siren in set(epci_codes), f"commune {code} epci {siren} unknown")

    commune_rows = []
    for c in communes:
        cps = c.get("codesPostaux") or []
        commune_rows.append([
            c["code"], c["nom"], c["departement"], c["region"],
            epci_of.get(c["code"], ""),
            opt_int(c.get("population")),
            " ".join(sorted(set(cps))),
        ])

    dep_rows = [[d["code"], d["nom"], d["region"], d.get("chefLieu") or ""] for d in deps]
    reg_rows = [[r["code"], r["nom"], r.get("chefLieu") or ""] for r in regs]

    tables = {
        "communes": sorted(commune_rows),
        "epci": sorted(epci_rows),
        "departments": sorted(dep_rows),
        "regions": sorted(reg_rows),
    }

    # --- counts -----------------------------------------------------------------
    got = {k: len(v) for k, v in tables.items()}
    bad = {k: (EXPECTED[k], got[k]) for k in EXPECTED if EXPECTED[k] != got[k]}
    check(not bad, "unexpected counts (expected, got): " + ", ".join(f"{k}={v}" for k, v in bad.items()))

    # --- spot checks ------------------------------------------------------------
    aj = by_code.get("2A004")
    check(aj is not None, "2A004 (Ajaccio) missing")
    check(aj["nom"] == "Ajaccio" and aj["departement"] == "2A" and aj["region"] == "94",
          f"2A004 unexpected: {aj}")
    aw = by_code.get("97361")
    check(aw is not None, "97361 missing")
    check(aw["nom"] == "Awala-Yalimapo" and aw["departement"] == "973" and aw["region"] == "03",
          f"97361 unexpected: {aw}")

    for name, rows in tables.items():
        for row in rows:
            check(len(row) == len(COLUMNS[name]), f"{name}: bad row width {row}")
            for cell in row:
                check(isinstance(cell, str) and "\n" not in cell and "\r" not in cell, f"{name}: bad cell {cell!r}")

    stats = {
        "types": dict(sorted(type_counts.items())),
        "communes_without_epci": sum(1 for r in tables["communes"] if not r[4]),
        "communes_without_population": [r[0] for r in tables["communes"] if not r[5]],
        "communes_without_postal_codes": [r[0] for r in tables["communes"] if not r[6]],
        "epci_kinds": dict(sorted(Counter(r[2] for r in tables["epci"]).items())),
        "epci_multi_department": sum(1 for r in tables["epci"] if " " in r[4]),
        "epci_multi_region": sum(1 for r in tables["epci"] if " " in r[5]),
    }
    return tables, stats


def csv_gz(header: list[str], rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    w = csv.writer(text, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL,
                   lineterminator="\n", doublequote=True)
    w.writerow(header)
    w.writerows(rows)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buf.getvalue()


def quote_block(text: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in text.rstrip("\n").split("\n"))


def license_md(license_text: str, readme: str) -> str:
    def section(title: str) -> str:
        marker = f"## {title}\n"
        check(marker in readme, f"package README has no '## {title}' section")
        body = readme.split(marker, 1)[1]
        return body.split("\n## ", 1)[0].strip("\n")

    return f"""# Attribution — {PACKAGE} {VERSION}

The files `communes.csv.gz`, `epci.csv.gz`, `departments.csv.gz` and
`regions.csv.gz` in this directory are derived (filtered and reformatted, see
`README.md`) from the npm package `{PACKAGE}` version `{VERSION}`
(millésime {MILLESIME}), published by Etalab / data.gouv.fr
(repository declared in its package.json: https://github.com/etalab/decoupage-administratif).

Tarball integrity: `{INTEGRITY}`

## Data origin and licence, as stated by the package README

The package README (verbatim excerpts) lists these sources:

{quote_block(section("Sources"))}

and this licence section:

{quote_block(section("Licence"))}

I.e. per the package README the **data** is under the Licence Ouverte
(Etalab, https://www.etalab.gouv.fr/licence-ouverte-open-licence; the README
does not state a version number) and the **code** under MIT. The underlying
sources are Insee (Code officiel géographique, populations légales), DGCL
(EPCI à fiscalité propre) and La Poste (postal codes), as quoted above.

## Package LICENSE file (verbatim)

```
{license_text.rstrip(chr(10))}
```
"""


def readme_md(stats: dict, counts: dict[str, int], digests: dict[str, str]) -> str:
    cols = "\n".join(f"- `{n}.csv.gz`: `{','.join(c)}`" for n, c in COLUMNS.items())
    sums = "\n".join(f"{digests[n]}  {n}.csv.gz" for n in COLUMNS)
    return f"""# French administrative geography (COG {MILLESIME})

Generated by `scripts/cog/regenerate` from the npm package
`{PACKAGE}@{VERSION}` (millésime {MILLESIME}). Do not edit by hand.
See `LICENSE-decoupage-administratif.md` for attribution and licences.

- Package: `{PACKAGE}@{VERSION}`
- Tarball integrity (`npm view {PACKAGE}@{VERSION} dist.integrity`):
  `{INTEGRITY}`

## Files and columns

All files are gzip-compressed CSV: UTF-8, comma separator, RFC 4180 quoting
(only when needed), header row, `\\n` line endings, sorted by `code`
(plain string order; `2A`/`2B` sort after `29`). Empty cell = no value.
Gzip headers carry mtime=0 and no file name, so output is byte-reproducible.

{cols}

| file | rows |
|------|-----:|
| communes.csv.gz | {counts['communes']} |
| epci.csv.gz | {counts['epci']} |
| departments.csv.gz | {counts['departments']} |
| regions.csv.gz | {counts['regions']} |

### communes.csv.gz
Only entries with `type == "commune-actuelle"` in `data/communes.json`
(package also contains: {', '.join(f'{k}={v}' for k, v in stats['types'].items())}).
- `code`: Insee commune code (5 chars, e.g. `2A004`).
- `name`: `nom`. `department` / `region`: `departement` / `region` codes.
- `epci_siren`: SIREN of the EPCI à fiscalité propre the commune belongs to.
  The package has no such field on communes; it is derived from
  `data/epci.json` `membres[].code`. Empty for {stats['communes_without_epci']} communes
  (island communes not in an EPCI, and overseas collectivities 975–989).
- `population`: `population` as given by the package; empty for
  {', '.join(stats['communes_without_population'])}.
- `postal_codes`: `codesPostaux`, de-duplicated, sorted, space-separated; empty for
  {', '.join(stats['communes_without_postal_codes'])}.

### epci.csv.gz
From `data/epci.json` (EPCI à fiscalité propre; EPT are not included).
- `code`: SIREN. `name`: `nom`. `kind`: `type` ({', '.join(f'{k}={v}' for k, v in stats['epci_kinds'].items())}).
- `population`: `populationMunicipale` as given by the package (DGCL figure; it
  equals the sum of the members' `populationMunicipale` in epci.json but NOT the
  sum of the `population` column of communes.csv.gz, which comes from a
  different Insee source/vintage).
- `departments` / `regions`: distinct codes of member communes, sorted,
  space-separated ({stats['epci_multi_department']} EPCI span several departments,
  {stats['epci_multi_region']} several regions).
- `member_count`: number of member communes.

### departments.csv.gz / regions.csv.gz
From `data/departements.json` / `data/regions.json`: `code`, `nom`, `region`
(departments only), `chefLieu` (Insee code of the chef-lieu commune). Includes
the overseas collectivities (975, 977, 978, 984, 986, 987, 988, 989), which the
package models as both a department and a region with the same code — hence
109 departments (101 + 8) and 26 regions (18 + 8). Note: the package gives
`97502` (Saint-Pierre, Saint-Pierre-et-Miquelon) as chef-lieu of 984 (TAAF);
kept as-is.

## Checks performed by the build
Tarball integrity; counts above; unique commune codes; every commune's
department and region exist (and match the department's region); every
chef-lieu is a current commune; every EPCI member is a current commune and
belongs to exactly one EPCI; `2A004` = Ajaccio (2A, 94); `97361` =
Awala-Yalimapo (973 Guyane, region 03).

## Regenerate

```sh
scripts/cog/regenerate          # needs npm (registry access) and python3 >= 3.11
```

## SHA-256 of outputs

```
{sums}
```
"""


def main() -> int:
    if sys.version_info < (3, 11):
        print("build.py needs Python >= 3.11", file=sys.stderr)
        return 2
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()

    try:
        data, license_text, readme = read_tarball(args.tarball)
        tables, stats = build(data)
        blobs = {f"{n}.csv.gz": csv_gz(COLUMNS[n], rows) for n, rows in tables.items()}
        digests = {n: hashlib.sha256(blobs[f"{n}.csv.gz"]).hexdigest() for n in tables}
        counts = {n: len(rows) for n, rows in tables.items()}
        blobs["LICENSE-decoupage-administratif.md"] = license_md(license_text, readme).encode("utf-8")
        blobs["README.md"] = readme_md(stats, counts, digests).encode("utf-8")
    except BuildError as e:
        print(f"build.py: FAILED: {e}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        tmp = args.out / f".{name}.tmp"
        tmp.write_bytes(blob)
        os.replace(tmp, args.out / name)
    for n, c in counts.items():
        print(f"{n}: {c} rows, {len(blobs[n + '.csv.gz'])} bytes, sha256 {digests[n]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
