#!/usr/bin/env python3
"""Regenerates the data tables of src/engine/endpoints.rs from a pinned botocore release.

The tables say which service (signing name) and region an AWS host signs for. They are
derived from botocore's data files, not written by hand:

- botocore/data/<service>/<version>/service-2.json: each SigV4 service's
  metadata.endpointPrefix (the host prefix) and metadata.signingName (the credential
  scope's service; the prefix itself when absent). Services that never sign with SigV4
  (bearer tokens, SigV2 only) are left out.
- botocore/data/endpoints.json: every hostname the file spells out (endpoints' and
  variants' explicit hostnames, the services' default hostname templates instantiated for
  each region they list) that takes SigV4. A hostname `{prefix}.{region}.{dnsSuffix}` gives
  a prefix row; one without a region label gives a global host, with the region its
  credentialScope names. Signing name: the endpoint's (or the service's default)
  credentialScope.service, else the signing name of the service key, else the signing name
  of the host's own prefix; a host whose signing name none of these gives is left out.
  Each partition's DNS suffixes (partitions' and variants' dnsSuffix, and the suffix after
  the region label of explicit hostnames).
- botocore/data/partitions.json: each partition's dnsSuffix and dualStackDnsSuffix.
- botocore/data/s3/*/endpoint-rule-set-1.json and s3control's: the literal host prefixes
  right before the region (access points, Object Lambda, Outposts, S3 Express control)
  and the signing names of their SigV4 auth schemes.

Prefixes are stored as the crate looks them up: without `.dualstack` and with FIPS
spellings (`sqs-fips`, `fips.batch`, `runtime-fips.sagemaker`) folded to the plain prefix.
Anything botocore does not describe (Lambda function URLs, AppSync, VPC Lattice, IoT's
account endpoints, S3 legacy hosts, ...) is in the hand-maintained tables of endpoints.rs,
outside the generated region.

Usage (no network beyond the pip download; Python 3.8+, standard library only):

    pip download --no-deps botocore==1.43.67 -d /tmp/botocore
    python3 scripts/endpoints/generate.py /tmp/botocore/botocore-1.43.67-py3-none-any.whl
        prints the generated region
    python3 scripts/endpoints/generate.py --write src/engine/endpoints.rs WHEEL
        replaces the region between `// BEGIN GENERATED` and `// END GENERATED` in place
    python3 scripts/endpoints/generate.py --check src/engine/endpoints.rs WHEEL
        exits 1 if the file's region differs from what the release gives

The source may also be a botocore sdist (.tar.gz) or a directory that holds botocore/data.
To move to another release, change BOTOCORE_VERSION below and the version named in the
module doc of endpoints.rs, regenerate, and run the inference tests.
"""

import argparse
import collections
import gzip
import json
import os
import re
import sys
import tarfile
import zipfile

BOTOCORE_VERSION = "1.43.67"

BEGIN = "// BEGIN GENERATED"
END = "// END GENERATED"

# Signature versions (service-2.json `signatureVersion`, endpoints.json
# `signatureVersions`) and auth traits that mean SigV4.
SIGV4_VERSIONS = {"v4", "s3v4", "v4a"}
SIGV4_AUTH = {"aws.auth#sigv4", "aws.auth#sigv4a"}


class Source:
    """botocore's data files, read from a wheel, an sdist or a directory."""

    def __init__(self, path):
        self.files = {}
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                for name in names:
                    full = os.path.join(root, name)
                    self._add(os.path.relpath(full, path).replace(os.sep, "/"), full)
            self._read = lambda where: open(where, "rb").read()
        elif zipfile.is_zipfile(path):
            archive = zipfile.ZipFile(path)
            for name in archive.namelist():
                self._add(name, name)
            self._read = archive.read
        elif tarfile.is_tarfile(path):
            archive = tarfile.open(path)
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            for name in members:
                self._add(name, name)
            self._read = lambda where: archive.extractfile(members[where]).read()
        else:
            sys.exit(f"{path}: not a botocore wheel, sdist or directory")
        if "botocore/data/endpoints.json" not in self.files:
            sys.exit(f"{path}: no botocore/data/endpoints.json in it")

    def _add(self, name, where):
        # An sdist's paths start with `botocore-X.Y.Z/`.
        start = name.find("botocore/")
        if start >= 0:
            self.files[name[start:]] = where

    def names(self):
        return sorted(self.files)

    def text(self, name):
        return self._read(self.files[name]).decode("utf-8")

    def json(self, name):
        data = self._read(self.files[name])
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        return json.loads(data)

    def version(self):
        found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", self.text("botocore/__init__.py"))
        return found.group(1) if found else None


def is_region(label):
    """A region code as endpoints.json's regionRegex spells them: `us-east-1`,
    `us-gov-west-1`, `eusc-de-east-1` (the crate's `is_region`)."""
    return re.fullmatch(r"[a-z]+(-[a-z]+)+-[0-9]+", label) is not None


def folded(prefix):
    """The prefix as the crate looks it up: `.dualstack` dropped, FIPS forms folded."""
    if prefix.endswith(".dualstack"):
        prefix = prefix[: -len(".dualstack")]
    if "fips" not in prefix:
        return prefix
    if prefix.startswith("fips."):
        prefix = prefix[len("fips.") :]
    return ".".join(label[: -len("-fips")] if label.endswith("-fips") else label for label in prefix.split("."))


class Rows:
    """prefix -> signing name, and where each came from (to explain a conflict)."""

    def __init__(self):
        self.names = collections.defaultdict(set)
        self.origins = collections.defaultdict(set)

    def add(self, prefix, name, origin):
        self.names[prefix].add(name)
        self.origins[prefix].add(f"{origin} -> {name}")

    def table(self):
        conflicts = {p: o for p, o in self.origins.items() if len(self.names[p]) > 1}
        if conflicts:
            lines = [f"  {p}: {sorted(o)}" for p, o in sorted(conflicts.items())]
            sys.exit("prefixes with more than one signing name:\n" + "\n".join(lines))
        return {p: next(iter(n)) for p, n in self.names.items()}


def sigv4_services(source):
    """endpointPrefix -> signing names of the services that sign with SigV4, and the
    prefixes of every service (SigV4 or not)."""
    sigv4 = collections.defaultdict(set)
    every = set()
    for name in source.names():
        if not re.fullmatch(r"botocore/data/[^/]+/[^/]+/service-2\.json(\.gz)?", name):
            continue
        metadata = source.json(name)["metadata"]
        prefix = metadata["endpointPrefix"]
        every.add(prefix)
        if metadata.get("signatureVersion") in SIGV4_VERSIONS or SIGV4_AUTH & set(metadata.get("auth", [])):
            sigv4[prefix].add(metadata.get("signingName") or prefix)
    for prefix, names in sigv4.items():
        if len(names) > 1:
            sys.exit(f"service-2.json: endpointPrefix {prefix} has several signing names {sorted(names)}")
    return {p: next(iter(n)) for p, n in sigv4.items()}, every


def endpoint_hosts(endpoints, sigv4, every):
    """(hostname, signing name or None, region or None, origin) for every hostname
    endpoints.json spells out for an endpoint that takes SigV4."""
    for partition in endpoints["partitions"]:
        pdefaults = partition["defaults"]
        for key, service in partition["services"].items():
            if key in every and key not in sigv4:
                continue  # a service that does not sign with SigV4 (bearer, SigV2)
            sdefaults = service.get("defaults", {})
            for name, endpoint in service.get("endpoints", {}).items():
                versions = (
                    endpoint.get("signatureVersions")
                    or sdefaults.get("signatureVersions")
                    or pdefaults.get("signatureVersions", [])
                )
                if not SIGV4_VERSIONS & set(versions):
                    continue
                scope = dict(sdefaults.get("credentialScope", {}))
                scope.update(endpoint.get("credentialScope", {}))
                region = scope.get("region") or (name if is_region(name) else None)
                signing = scope.get("service") or sigv4.get(key)
                origin = f"endpoints.json {partition['partition']}/{key}/{name}"
                hosts = []
                if "hostname" in endpoint:
                    hosts.append(endpoint["hostname"])
                hosts += [v["hostname"] for v in endpoint.get("variants", []) if "hostname" in v]
                if is_region(name):
                    # Templates (`{service}.{region}.{dnsSuffix}`) give the hostnames of the
                    # regions the service lists; only for real regions, not for pseudo-regions
                    # such as `fips-us-east-1` or `aws-global`, whose hostnames are explicit.
                    def expand(template, suffix):
                        return template.replace("{service}", key).replace("{region}", name).replace("{dnsSuffix}", suffix)

                    if "hostname" not in endpoint:
                        template = sdefaults.get("hostname") or pdefaults["hostname"]
                        hosts.append(expand(template, partition["dnsSuffix"]))
                    hosts += [
                        expand(v["hostname"], v.get("dnsSuffix", partition["dnsSuffix"]))
                        for v in sdefaults.get("variants", [])
                        if "hostname" in v
                    ]
                for host in hosts:
                    yield host, signing, region, name, origin


def dns_suffixes(source, endpoints):
    suffixes = set()
    for partition in endpoints["partitions"]:
        suffixes.add(partition["dnsSuffix"])
        suffixes.update(v["dnsSuffix"] for v in partition["defaults"].get("variants", []) if "dnsSuffix" in v)
        for service in partition["services"].values():
            for name, endpoint in service.get("endpoints", {}).items():
                if not is_region(name):
                    continue
                for host in [endpoint.get("hostname")] + [v.get("hostname") for v in endpoint.get("variants", [])]:
                    if host and f".{name}." in host:
                        suffixes.add(host.split(f".{name}.", 1)[1])
    for partition in source.json("botocore/data/partitions.json")["partitions"]:
        outputs = partition["outputs"]
        suffixes.update(outputs[k] for k in ("dnsSuffix", "dualStackDnsSuffix") if k in outputs)
    return sorted(suffixes, key=lambda s: (-len(s), s))


def rule_set_rows(source, rows):
    """Host prefixes of S3's and S3 Control's endpoint rule sets."""
    pattern = re.compile(r"botocore/data/(s3|s3control)/[^/]+/endpoint-rule-set-1\.json(\.gz)?")
    for name in source.names():
        if not pattern.fullmatch(name):
            continue
        for url, schemes in rule_set_endpoints(source.json(name)):
            if not isinstance(url, str) or not url.startswith("https://"):
                continue
            signing = next((s.get("signingName") for s in schemes if s.get("name") == "sigv4"), None)
            labels = url[len("https://") :].split("/", 1)[0].split(".")
            # `…{prefix}.[dualstack.]{Region}.{partitionResult#dnsSuffix}`
            if len(labels) < 3:
                continue
            suffix, region = labels[-1].lower(), labels[-2].lower()
            if not (suffix.startswith("{") and suffix.endswith("dnssuffix}")):
                continue
            if not (region.startswith("{") and region.endswith("region}")):
                continue
            front = labels[:-2]
            if front and front[-1] == "dualstack":
                front = front[:-1]
            literal = []
            for label in reversed(front):
                if "{" in label:
                    break
                literal.insert(0, label)
            if not literal or not signing:
                continue
            customer = len(literal) < len(front)
            prefix = literal[-1] if customer else ".".join(literal)
            rows.add(folded(prefix), signing, name)


def rule_set_endpoints(node):
    if isinstance(node, dict):
        endpoint = node.get("endpoint")
        if isinstance(endpoint, dict):
            yield endpoint.get("url"), endpoint.get("properties", {}).get("authSchemes", [])
        for value in node.values():
            yield from rule_set_endpoints(value)
    elif isinstance(node, list):
        for value in node:
            yield from rule_set_endpoints(value)


def generate(source):
    sigv4, every = sigv4_services(source)
    endpoints = source.json("botocore/data/endpoints.json")
    suffixes = dns_suffixes(source, endpoints)
    rows = Rows()
    for prefix, name in sigv4.items():
        rows.add(folded(prefix), name, "service-2.json")
    global_hosts = collections.defaultdict(set)
    skipped = []
    for host, signing, region, name, origin in endpoint_hosts(endpoints, sigv4, every):
        suffix = next((s for s in suffixes if host.endswith("." + s)), None)
        if suffix is None:
            skipped.append(f"{host} ({origin}: under no partition's DNS suffix)")
            continue
        rest = host[: -len(suffix) - 1]
        front, _, last = rest.rpartition(".")
        if front and is_region(last):
            prefix = folded(front)
            signing = signing or sigv4.get(prefix)
            if signing:
                rows.add(prefix, signing, origin)
            continue
        # Its region's name inside a label, not as one: a missing dot (`ramus-gov-east-1`).
        if is_region(name) and name in host and f".{name}." not in f".{host}.":
            skipped.append(f"{host} ({origin}: malformed)")
            continue
        signing = signing or sigv4.get(folded(front or last))
        if signing and region:
            global_hosts[host].add((signing, region))
    rule_set_rows(source, rows)
    for host, scopes in global_hosts.items():
        if len(scopes) > 1:
            sys.exit(f"global host {host} has several scopes {sorted(scopes)}")
    global_rows = sorted((h, *next(iter(s))) for h, s in global_hosts.items())
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    return render(suffixes, sorted(rows.table().items()), global_rows)


def render(suffixes, signing_names, global_hosts):
    out = [
        BEGIN,
        f"// From botocore {BOTOCORE_VERSION} by scripts/endpoints/generate.py: do not edit by hand.",
        "",
        "/// DNS suffixes of the AWS partitions (`endpoints.json` and `partitions.json`), longer",
        "/// suffixes first.",
        "#[rustfmt::skip]",
        "static PARTITION_DNS_SUFFIXES: &[&str] = &[",
    ]
    out += [f'    "{s}",' for s in suffixes]
    out += [
        "];",
        "",
        "/// Hosts whose scope region is not in the host name: partition-global endpoints and the",
        "/// like, with the service and region their `credentialScope` names. Sorted by host.",
        "#[rustfmt::skip]",
        "pub(crate) static GLOBAL_HOSTS: &[(&str, &str, &str)] = &[",
    ]
    out += [f'    ("{h}", "{s}", "{r}"),' for h, s, r in global_hosts]
    out += [
        "];",
        "",
        "/// Host prefix (botocore `endpointPrefix`) → signing name, sorted by prefix for a binary",
        "/// search. Rows whose prefix and signing name are equal say only \"this is a service\".",
        "#[rustfmt::skip]",
        "pub(crate) static SIGNING_NAMES: &[(&str, &str)] = &[",
    ]
    out += [f'    ("{p}", "{n}"),' for p, n in signing_names]
    out += ["];", END]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="botocore wheel, sdist, or a directory holding botocore/data")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", metavar="ENDPOINTS_RS", help="replace the generated region of this file")
    mode.add_argument("--check", metavar="ENDPOINTS_RS", help="exit 1 if this file's generated region differs")
    args = parser.parse_args()

    source = Source(args.source)
    version = source.version()
    if version != BOTOCORE_VERSION:
        sys.exit(
            f"{args.source} is botocore {version}, this script is pinned to {BOTOCORE_VERSION}: "
            "to move, change BOTOCORE_VERSION and the module doc of endpoints.rs"
        )
    generated = generate(source)
    target = args.write or args.check
    if not target:
        sys.stdout.write(generated)
        return
    with open(target, encoding="utf-8") as f:
        text = f.read()
    # The markers are whole lines (the module doc may name them too).
    begin = re.search(f"^{re.escape(BEGIN)}$", text, re.MULTILINE)
    finish = re.search(f"^{re.escape(END)}$", text, re.MULTILINE)
    if not begin or not finish or finish.start() < begin.start():
        sys.exit(f"{target}: no `{BEGIN}` ... `{END}` region")
    start, end = begin.start(), text.index("\n", finish.start()) + 1
    if f"botocore {BOTOCORE_VERSION}" not in text[:start]:
        sys.exit(f"{target}: its module doc does not name botocore {BOTOCORE_VERSION}")
    if args.check:
        if text[start:end] != generated:
            sys.exit(f"{target}: the generated region differs from botocore {BOTOCORE_VERSION}'s tables")
        print(f"{target}: generated region matches botocore {BOTOCORE_VERSION}")
        return
    with open(target, "w", encoding="utf-8") as f:
        f.write(text[:start] + generated + text[end:])
    print(f"{target}: generated region written from botocore {BOTOCORE_VERSION}")


if __name__ == "__main__":
    main()
