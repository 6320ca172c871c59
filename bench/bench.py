#!/usr/bin/env python3
"""gdctl against the sequential ways, on moto behind a front that adds real-world
round trips per region (and, for findings, on bench/standin.py, which adds the
same delays). Prints a markdown table and writes the same figures as JSON.

Each case starts from the same state in a fresh account (STS AssumeRole on moto):
  gdctl enable --frequency fifteen-minutes   on an empty account
  gdctl enable                               again: everything unchanged
  gdctl status
  gdctl disable --yes                        every region enabled before
  gdctl usage                                every region enabled before (cost by plan, free trial)
  gdctl findings                             every region enabled, 6 findings in each (counts by severity band)
  gdctl findings --list --limit 100          every region enabled, 500 findings in each (the 100 most severe)
  gdctl apply examples/guardduty.toml        on an empty account: the file's detector, rules, lists, export
  gdctl apply (again, unchanged)             the file applied before: nothing to change
  boto3 loop                                 describe_regions, then create_detector region after region
  aws CLI loop                               aws ec2 describe-regions, then aws guardduty create-detector per region
  aws CLI findings loop                      aws ec2 describe-regions, then per region aws guardduty
                                             list-detectors and get-findings-statistics --group-by SEVERITY
                                             (as gdctl findings, from the same state, on the same server)
and, derived from the delay table (nothing run):
  Terraform-style (one call at a time)       the apply cases' calls made one after another: the sum
                                             over the target regions of every call's round trip

Every request waits (service_ms + rtt_ms[its region]) * scale in the front (or
the stand-in). gdctl's lower bound is the discovery call plus the slowest
region's chain of sequential calls (gdctl's own call plan, below). Each peer is
compared with the gdctl case that does its work ("peer / gdctl").

The findings cases and the aws CLI findings loop run on bench/standin.py, which
answers STS, EC2 and GuardDuty's detector and findings reads from memory: on
moto (one request at a time in Python, ~20 ms of CPU for a sorted ListFindings
over 500 findings) the server's CPU, not gdctl, set the --list case's time.
Its accounts, detectors and findings are made through its set-up hook (POST
/__standin/accounts, not an AWS API), untimed. The other cases run on moto
(the stand-in lacks their writes, usage and settings). The apply case's state
"applied" is made by gdctl apply itself, straight on moto, untimed.
"""
import argparse
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

APPLY_FILE = ROOT / "examples" / "guardduty.toml"
APPLY = "gdctl apply examples/guardduty.toml"
APPLY_AGAIN = "gdctl apply (again, unchanged)"

# gdctl's calls per region, in sequence, for each case (the discovery call,
# DescribeRegions in the home region, comes first in every case).
GDCTL_CASES = [
    ("gdctl enable --frequency fifteen-minutes", ["enable", "--frequency", "fifteen-minutes"], "empty", 2),  # List, Create
    ("gdctl enable (again, unchanged)", ["enable"], "enabled", 2),  # List, Get
    ("gdctl status", ["status"], "enabled", 2),  # List, Get
    ("gdctl disable --yes", ["disable", "--yes"], "enabled", 2),  # List, Delete
    ("gdctl usage", ["usage"], "enabled", 2),  # List, GetUsageStatistics beside GetRemainingFreeTrialDays
    ("gdctl findings", ["findings"], "findings", 2),  # List, GetDetector beside GetFindingsStatistics
    # List, ListFindings page 1, its GetFindings beside ListFindings page 2, GetFindings page 2
    ("gdctl findings --list --limit 100", ["findings", "--list", "--limit", "100"], "findings-500", 4),
    # ListDetectors, CreateDetector (the file's [detector]: frequency, features,
    # tags), then the sections side by side, the longest the rules': ListFilters,
    # then the example's 3 CreateFilter one after another (ranks depend on the
    # ones before); beside it ListIPSets, CreateIPSet; ListThreatIntelSets,
    # CreateThreatIntelSet; ListPublishingDestinations, CreatePublishingDestination.
    (APPLY, ["apply", str(APPLY_FILE)], "empty", 6),
    # ListDetectors, GetDetector, then side by side each section's List, then
    # its Gets (3 GetFilter side by side, GetIPSet, GetThreatIntelSet,
    # DescribePublishingDestination): nothing written.
    (APPLY_AGAIN, ["apply", str(APPLY_FILE)], "applied", 4),
]
# GuardDuty calls per region (all of them, in or beside the chain), for the
# cases whose count a derived peer is built on: each run is checked to make
# exactly these, so the peer is the same work.
CALLS = {APPLY: 12, APPLY_AGAIN: 12}
# Peers derived from the delay table: every call of the gdctl case, one at a
# time, region after region (Terraform's providers name their regions: no
# discovery call).
DERIVED_PEERS = [("Terraform-style (one call at a time)", APPLY),
                 ("Terraform-style, again (one call at a time)", APPLY_AGAIN)]
# Each peer, and the gdctl case that does the same work from the same state.
PEER_CASES = [
    ("boto3 loop", [PY, str(HERE / "boto3_loop.py")], "empty", "gdctl enable --frequency fifteen-minutes"),
    ("aws CLI loop", ["bash", str(HERE / "cli_loop.sh")], "empty", "gdctl enable --frequency fifteen-minutes"),
    ("aws CLI findings loop", ["bash", str(HERE / "cli_findings_loop.sh")], "findings", "gdctl findings"),
]
# Targets per gdctl case: wall / lower bound at scale > 0, peak RSS MB, CPU ms
# per region at scale 0 (None: no target).
TARGETS = {"gdctl findings": (1.05, 20, 1.0), "gdctl findings --list --limit 100": (1.10, 25, None),
           APPLY: (1.05, 20, None), APPLY_AGAIN: (1.05, 20, None)}
DEFAULT_TARGETS = (1.10, 20, 1.0)

# States on the stand-in: every region enabled, and this many findings in each
# (bench/standin.py's mix: 1 critical, 2 high, 2 medium, 1 low in every 6).
STANDIN_STATES = {"findings": 6, "findings-500": 500}


def start(script, *args):
    """A server: a script of scripts/ by name, or any script by path."""
    path = script if isinstance(script, Path) else ROOT / "scripts" / script
    p = subprocess.Popen([PY, str(path), *args, "--exit-on-eof"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith(("listening on http://127.0.0.1:", "listening on https://127.0.0.1:")):
        sys.exit(f"{script} did not start: {line!r}")
    return p, line.removeprefix("listening on ")


def client(service, moto, creds, region, ca_bundle=None):
    return boto3.client(service, region_name=region, endpoint_url=moto, verify=str(ca_bundle) if ca_bundle else None,
                        **creds)


class Bench:
    def __init__(self, args):
        self.args = args
        self.table = json.loads(Path(args.table).read_text())
        self.home = self.table["home"]
        self.moto_proc, self.moto = start("emulator.py")
        tls = []
        self.ca_bundle = None
        if args.tls:
            # A private CA made now: every tool under test trusts it through AWS_CA_BUNDLE.
            self.tls_dir = tempfile.TemporaryDirectory()
            self.ca_bundle, cert, key = private_ca(Path(self.tls_dir.name))
            tls = ["--tls-cert", str(cert), "--tls-key", str(key)]
        self.front_proc, self.front = start("front.py", "--upstream", self.moto, "--delays", args.table,
                                            "--scale", str(args.scale), *tls)
        self.standin_proc, self.standin = start(HERE / "standin.py", "--delays", args.table,
                                                "--scale", str(args.scale), *tls)
        self.next_account = 200_000_000_001
        base = dict(aws_access_key_id="bench", aws_secret_access_key="bench")
        regions = client("ec2", self.moto, base, self.home).describe_regions(AllRegions=True)["Regions"]
        partition = lambda r: "cn" if r.startswith("cn-") else "gov" if r.startswith("us-gov-") else "aws"
        self.targets = sorted(r["RegionName"] for r in regions
                              if r["OptInStatus"] != "not-opted-in"
                              and partition(r["RegionName"]) == partition(self.home))
        # The stand-in's regions must be moto's targets, or its cases' bound would be another's.
        ec2 = client("ec2", self.standin, base, self.home, self.ca_bundle)
        standin_targets = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"]
                                 if r["OptInStatus"] != "not-opted-in")
        if standin_targets != self.targets:
            sys.exit(f"the stand-in's regions {standin_targets} are not moto's targets {self.targets}")

    def delay(self, region):
        rtt = self.table["rtt_ms"].get(region, max(self.table["rtt_ms"].values()))
        return (self.table["service_ms"] + rtt) * self.args.scale / 1000.0

    def bound(self, chain):
        return self.delay(self.home) + chain * max(self.delay(r) for r in self.targets)

    def sequential_estimate(self):
        """What a one-call-per-region loop must wait at least."""
        return self.delay(self.home) + sum(self.delay(r) for r in self.targets)

    def fresh(self, state):
        """A run's environment and server from a fresh account in `state`: on the
        stand-in for its states, else on moto behind the front."""
        if state in STANDIN_STATES:
            return env_for(self.standin_account(STANDIN_STATES[state]), self.home, self.standin,
                           self.ca_bundle), "stand-in"
        return self.env(self.fresh_account(state)), "moto"

    def standin_account(self, findings):
        """A new account on the stand-in, every target region enabled with this
        many findings, made through its set-up hook (not delayed, not timed)."""
        account = str(self.next_account)
        self.next_account += 1
        body = json.dumps({"accountIds": [account], "regions": self.targets, "findingsPerRegion": findings}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{self.standin}/__standin/accounts", data=body,
                                                               method="POST"), context=self.ssl_context()) as r:
                made = json.loads(r.read())["detectors"]
        except urllib.error.HTTPError as e:
            sys.exit(f"the stand-in's set-up failed: {e.code} {e.read()!r}")
        if made != len(self.targets):
            sys.exit(f"the stand-in made {made} detectors for {len(self.targets)} regions")
        # The stand-in's STS names the account by its key (bench/standin.py).
        return dict(aws_access_key_id=f"ASIA{account}STANDIN", aws_secret_access_key="bench",
                    aws_session_token="bench")

    def ssl_context(self):
        return ssl.create_default_context(cafile=str(self.ca_bundle)) if self.ca_bundle else None

    def guardduty_calls(self, server):
        """GuardDuty requests the server has answered so far (its stats, untimed)."""
        url = f"{self.front}/__front/stats" if server == "moto" else f"{self.standin}/__standin/stats"
        with urllib.request.urlopen(url, context=self.ssl_context()) as r:
            doc = json.loads(r.read())
        return len(doc["guardduty_calls"]) if server == "moto" else doc["guardduty"]

    def server_cpu(self, server):
        """The server's CPU seconds so far (moto and the front, or the stand-in): it shares these cores."""
        procs = (self.moto_proc, self.front_proc) if server == "moto" else (self.standin_proc,)
        return sum(cpu_of(p.pid) for p in procs)

    def fresh_account(self, state):
        """A new account on moto, warmed (moto builds backends on first touch)
        and put in `state`, all directly on moto: none of it is timed."""
        account = self.next_account
        self.next_account += 1
        sts = client("sts", self.moto, dict(aws_access_key_id="bench", aws_secret_access_key="bench"), "us-east-1")
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bench", RoleSessionName="bench")["Credentials"]
        creds = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                     aws_session_token=c["SessionToken"])
        client("ec2", self.moto, creds, self.home).describe_regions(AllRegions=True)
        for r in self.targets:
            gd = client("guardduty", self.moto, creds, r)
            gd.list_detectors()
            if state == "enabled":
                gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES")
        if state == "applied":
            # The file applied by gdctl itself, straight on moto (no delays, untimed).
            argv = [self.args.gdctl, "apply", str(APPLY_FILE)]
            p = subprocess.run(argv, env=env_for(creds, self.home, self.moto), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            check(argv, p.returncode, p.stdout)
        return creds

    def env(self, creds):
        return env_for(creds, self.home, self.front, self.ca_bundle)

    def measure(self, name, argv, state):
        """One sample from two runs, each from a fresh account in `state`.
        Wall and CPU come from wait4 on gdctl itself (a launcher's own start-up
        would be counted in its rusage). Peak RSS comes from GNU time, which forks
        the command from its own small process: a child forked from this Python
        process starts with Python's RSS as its high-water mark. The server's
        CPU and GuardDuty requests are read around the timed run."""
        env, server = self.fresh(state)
        calls0, cpu0 = self.guardduty_calls(server), self.server_cpu(server)
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        server_cpu = self.server_cpu(server) - cpu0
        calls = self.guardduty_calls(server) - calls0
        check(argv, os.waitstatus_to_exitcode(status), out)
        if name in CALLS and calls != CALLS[name] * len(self.targets):
            sys.exit(f"{name} made {calls} GuardDuty calls, not {CALLS[name]} in each of {len(self.targets)} "
                     "regions: its chain, bound and derived peer in bench/bench.py need a new look\n"
                     f"{out.decode(errors='replace')}")
        with tempfile.NamedTemporaryFile("r") as rss:
            launcher = ["/usr/bin/time", "-f", "%M", "-o", rss.name]
            p = subprocess.run([*launcher, *argv], env=self.fresh(state)[0],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            check(argv, p.returncode, p.stdout)
            rss_kb = int(rss.read().split()[-1])
        return dict(wall=wall, cpu=ru.ru_utime + ru.ru_stime, rss_mb=rss_kb / 1024.0, server=server,
                    server_cpu=server_cpu, guardduty_calls=calls)

    def run(self):
        cases = [(n, [self.args.gdctl, *a], s, chain) for n, a, s, chain in GDCTL_CASES]
        cases += [(n, argv, s, None) for n, argv, s, _ in PEER_CASES]
        samples = {name: [] for name, *_ in cases}
        for _ in range(self.args.repeat):
            for name, argv, state, _ in cases:
                samples[name].append(self.measure(name, argv, state))
        results = []
        for name, argv, state, chain in cases:
            s = samples[name]
            walls = [x["wall"] for x in s]
            row = dict(case=name, runs=len(s), server=s[0]["server"],
                       wall_median=statistics.median(walls), wall_min=min(walls), wall_max=max(walls),
                       cpu_median=statistics.median(x["cpu"] for x in s),
                       server_cpu_median=statistics.median(x["server_cpu"] for x in s),
                       guardduty_calls_per_region=statistics.median(x["guardduty_calls"] for x in s)
                       / len(self.targets),
                       rss_peak_mb=max(x["rss_mb"] for x in s))
            if chain is not None:
                row["calls_per_region"] = chain
                row["bound"] = self.bound(chain)
                row["ratio_to_bound"] = row["wall_median"] / row["bound"] if row["bound"] else None
                row["cpu_ms_per_region"] = row["cpu_median"] * 1000 / len(self.targets)
            results.append(row)
        wall = {row["case"]: row["wall_median"] for row in results}
        for row in results:
            for name, _, _, gdctl_case in PEER_CASES:
                if row["case"] == name:
                    row["compared_with"] = gdctl_case
                    row["ratio_to_gdctl"] = row["wall_median"] / wall[gdctl_case]
                    if gdctl_case == GDCTL_CASES[0][0]:
                        row["ratio_to_gdctl_enable"] = row["ratio_to_gdctl"]
        derived = []
        for name, gdctl_case in DERIVED_PEERS:
            seconds = CALLS[gdctl_case] * sum(self.delay(r) for r in self.targets)
            derived.append(dict(case=name, derived=True, calls_each_region=CALLS[gdctl_case], seconds=seconds,
                                compared_with=gdctl_case, ratio_to_gdctl=seconds / wall[gdctl_case]))
        return dict(scale=self.args.scale, tls=self.args.tls, home=self.home, service_ms=self.table["service_ms"],
                    regions=len(self.targets), sequential_estimate=self.sequential_estimate(),
                    machine=machine(), results=results, derived=derived, targets=self.targets)

    def close(self):
        for p in (self.front_proc, self.moto_proc, self.standin_proc):
            p.kill()
            p.wait()


def env_for(creds, home, endpoint, ca_bundle=None):
    """A tool's environment: these credentials, home region and endpoint, and
    nothing of the caller's AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=creds["aws_secret_access_key"],
        AWS_SESSION_TOKEN=creds["aws_session_token"],
        AWS_REGION=home, AWS_DEFAULT_REGION=home,
        AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # The front is on loopback: never through a proxy of the caller's.
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
    )
    if ca_bundle:
        env["AWS_CA_BUNDLE"] = str(ca_bundle)
    return env


def private_ca(d):
    """A CA and a certificate it signed for 127.0.0.1 (scripts/private-ca.sh)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "private-ca.sh"), str(d)], check=True)
    return d / "ca.pem", d / "server.pem", d / "server.key"


def finish(bench, args, markdown):
    """Run the bench, always stop its servers, write the JSON, print the table."""
    try:
        doc = bench.run()
    finally:
        bench.close()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    print(markdown(doc))
    return doc


def check(argv, code, out):
    if code != 0:
        sys.exit(f"{' '.join(map(str, argv))} exited {code}:\n{out.decode(errors='replace')}")


def cpu_of(pid):
    """A process's user+system CPU seconds so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {cpu}"


def markdown(doc):
    f = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"
    lines = [
        f"{doc['regions']} regions from {doc['home']}, scale {doc['scale']}{', https via a private CA' if doc.get('tls') else ''} "
        f"(service {doc['service_ms']} ms + round trip per request); {doc['machine']}",
        "",
        "| case | runs | median s | min s | max s | CPU s | peak RSS MB | lower bound s | / bound | peer / gdctl "
        "| server | server CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['case']} | {r['runs']} | {f(r['wall_median'])} | {f(r['wall_min'])} | {f(r['wall_max'])} "
            f"| {f(r['cpu_median'])} | {f(r['rss_peak_mb'], 1)} | {f(r.get('bound'))} "
            f"| {f(r.get('ratio_to_bound'), 2)} | {f(r.get('ratio_to_gdctl'), 1)} | {r['server']} "
            f"| {f(r['server_cpu_median'], 2)} |")
    for r in doc.get("derived", []):
        lines.append(f"| {r['case']} | derived | {f(r['seconds'])} | — | — | — | — | — | — "
                     f"| {f(r['ratio_to_gdctl'], 1)} | — | — |")
    lines.append("")
    lines.append("peer / gdctl: " + "; ".join(f"{r['case']} against {r['compared_with']}"
                                              for r in doc["results"] + doc.get("derived", [])
                                              if "compared_with" in r))
    lines.append("derived: " + "; ".join(f"{r['case']}: {r['calls_each_region']} calls in each region, one at a "
                                         "time (the sum of their round trips)" for r in doc.get("derived", [])))
    return "\n".join(lines)


def verdicts(doc):
    out = []
    for r in doc["results"]:
        if "bound" not in r:
            continue
        max_ratio, max_rss, max_cpu = TARGETS.get(r["case"], DEFAULT_TARGETS)
        if doc["scale"] > 0:
            ok = r["ratio_to_bound"] <= max_ratio
            out.append(f"{'PASS' if ok else 'MISS'} {r['case']}: {r['ratio_to_bound']:.2f}x its lower bound "
                       f"(target <= {max_ratio:.2f}x)")
        elif max_cpu is None:
            out.append(f"---- {r['case']}: {r['cpu_ms_per_region']:.2f} ms CPU per region (no target)")
        else:
            ok = r["cpu_ms_per_region"] <= max_cpu
            out.append(f"{'PASS' if ok else 'MISS'} {r['case']}: {r['cpu_ms_per_region']:.2f} ms CPU per region "
                       f"(target <= {max_cpu:g} ms)")
        ok = r["rss_peak_mb"] <= max_rss
        out.append(f"{'PASS' if ok else 'MISS'} {r['case']}: peak RSS {r['rss_peak_mb']:.1f} MB (target <= {max_rss} MB)")
    seq = doc["sequential_estimate"]
    out.append(f"a one-call-per-region loop waits at least {seq:.3f} s here (sum of the delays); "
               f"gdctl's bound is the slowest chain, so the table implies at most ~"
               f"{seq / max(doc['results'][0]['bound'] or 1e-9, 1e-9):.1f}x between them at this scale")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gdctl", default=str(ROOT / "target" / "release" / "gdctl"))
    p.add_argument("--table", default=str(HERE / "rtt-ap-northeast-2.json"))
    p.add_argument("--scale", type=float, default=1.0, help="0 = no delay: pure CPU cost")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--tls", action="store_true", help="https through a private CA (AWS_CA_BUNDLE), to show what TLS costs")
    p.add_argument("--json", default=str(ROOT / "target" / "bench" / "bench.json"))
    args = p.parse_args()
    if args.repeat < 1 or args.scale < 0:
        sys.exit("--repeat must be >= 1 and --scale >= 0")

    doc = finish(Bench(args), args, markdown)
    print()
    print("\n".join(verdicts(doc)))
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
