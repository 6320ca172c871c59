#!/usr/bin/env python3
"""`gdctl org enable` on an organization of N accounts (default 50) x 20 regions,
on the emulator (moto and scripts/guardduty_org.py) behind the front that adds
real-world round trips per region (the single-account bench's table).

Cases, each on a fresh organization built directly on the emulator (untimed,
every account's backends warmed):
  gdctl org enable --admin-account A      from scratch: administrator named, its
                                          detector, auto-enable ALL, N-1 members
  gdctl org enable --admin-account A      again: everything unchanged
  gdctl org status --check                read only

Lower bound: one home round trip (GetCallerIdentity, DescribeRegions and
Organizations ListAccounts side by side), then the slowest region's chain of
sequential calls in gdctl's plan:
  from scratch (8): ListOrganizationAdminAccounts, EnableOrganizationAdminAccount,
    ListDetectors and GetDetector (the administrator's, made by the service),
    DescribeOrganizationConfiguration | ListMembers,
    UpdateOrganizationConfiguration | (ListDetectors, CreateDetector for the
    management account, then CreateMembers)
  again (4): ListOrganizationAdminAccounts, ListDetectors, GetDetector,
    DescribeOrganizationConfiguration | ListMembers
  status (3): ListOrganizationAdminAccounts, ListDetectors,
    DescribeOrganizationConfiguration | ListMembers
(`|`: side by side. The administrator's AssumeRole, in the home region, runs
while the slowest region makes its first two calls.) The emulator creates the
administrator's detector at once here (--admin-detector-delay 0): on AWS that
wait is the service's, not gdctl's.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench as bench_py  # bench/bench.py: servers, clients, the run-and-report ending

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CASES = [("gdctl org enable (from scratch)", 8), ("gdctl org enable (again, unchanged)", 4),
         ("gdctl org status --check", 3)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.table = json.loads(Path(args.table).read_text())
        self.home = self.table["home"]
        self.moto_proc, self.moto = bench_py.start("emulator.py", "--admin-detector-delay", "0")
        self.front_proc, self.front = bench_py.start("front.py", "--upstream", self.moto, "--delays", args.table,
                                                     "--scale", str(args.scale))
        self.next_account = 400_000_000_001
        base = dict(aws_access_key_id="bench", aws_secret_access_key="bench")
        regions = bench_py.client("ec2", self.moto, base, self.home).describe_regions(AllRegions=True)["Regions"]
        partition = lambda r: "cn" if r.startswith("cn-") else "gov" if r.startswith("us-gov-") else "aws"
        self.targets = sorted(r["RegionName"] for r in regions
                              if r["OptInStatus"] != "not-opted-in" and partition(r["RegionName"]) == partition(self.home))

    def delay(self, region):
        rtt = self.table["rtt_ms"].get(region, max(self.table["rtt_ms"].values()))
        return (self.table["service_ms"] + rtt) * self.args.scale / 1000.0

    def bound(self, chain):
        return self.delay(self.home) + chain * max(self.delay(r) for r in self.targets)

    def assume(self, account):
        sts = bench_py.client("sts", self.moto, dict(aws_access_key_id="bench", aws_secret_access_key="bench"),
                              "us-east-1")
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                            RoleSessionName="bench")["Credentials"]
        return dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                    aws_session_token=c["SessionToken"])

    def organization(self):
        """A fresh organization of N accounts (the management account and N-1
        created), every account's GuardDuty backends warmed in every target
        region, all directly on the emulator: none of it is timed."""
        management = str(self.next_account)
        self.next_account += 1
        creds = self.assume(management)
        orgs = bench_py.client("organizations", self.moto, creds, "us-east-1")
        orgs.create_organization(FeatureSet="ALL")
        members = [orgs.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"]
                   for i in range(self.args.accounts - 1)]

        def warm(account):
            c = creds if account == management else self.assume(account)
            bench_py.client("ec2", self.moto, c, self.home).describe_regions()
            for r in self.targets:
                bench_py.client("guardduty", self.moto, c, r).list_detectors()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(warm, [management, *members]))
        return creds, members[0]

    def timed(self, argv, env):
        """Wall and CPU from wait4 on gdctl itself."""
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        bench_py.check(argv, os.waitstatus_to_exitcode(status), out)
        return dict(wall=wall, cpu=ru.ru_utime + ru.ru_stime)

    def rss(self, argv, env):
        """Peak RSS through GNU time (see bench.py's measure)."""
        with tempfile.NamedTemporaryFile("r") as f:
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name, *argv], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            bench_py.check(argv, p.returncode, p.stdout)
            return int(f.read().split()[-1]) / 1024.0

    def sample(self):
        """The three cases on one organization, then a second organization for
        the from-scratch case's RSS."""
        creds, admin = self.organization()
        env = self.env(creds)
        g = self.args.gdctl
        enable = [g, "org", "enable", "--admin-account", admin]
        runs = [self.timed(enable, env), self.timed(enable, env), self.timed([g, "org", "status", "--check"], env)]
        runs[1]["rss_mb"] = self.rss(enable, env)
        runs[2]["rss_mb"] = self.rss([g, "org", "status", "--check"], env)
        creds, admin = self.organization()
        runs[0]["rss_mb"] = self.rss([g, "org", "enable", "--admin-account", admin], self.env(creds))
        return runs

    def env(self, creds):
        return bench_py.env_for(creds, self.home, self.front)

    def instructions(self):
        """Callgrind's count for one `org enable` from scratch (delays do not
        change it: the front only waits)."""
        creds, admin = self.organization()
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                            self.args.gdctl, "org", "enable", "--admin-account", admin],
                           env=self.env(creds), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"Collected : (\d+)", p.stderr)
        return int(m.group(1)) if m else None

    def run(self):
        samples = [self.sample() for _ in range(self.args.repeat)]
        regions = len(self.targets)
        results = []
        for i, (name, chain) in enumerate(CASES):
            s = [x[i] for x in samples]
            walls = [x["wall"] for x in s]
            row = dict(case=name, runs=len(s), wall_median=statistics.median(walls), wall_min=min(walls),
                       wall_max=max(walls), cpu_median=statistics.median(x["cpu"] for x in s),
                       rss_peak_mb=max(x["rss_mb"] for x in s), calls_per_region=chain, bound=self.bound(chain))
            row["ratio_to_bound"] = row["wall_median"] / row["bound"] if row["bound"] else None
            results.append(row)
        sequential = self.delay(self.home) + CASES[0][1] * sum(self.delay(r) for r in self.targets)
        if self.args.callgrind:
            ir = self.instructions()
            results[0]["instructions_per_region"] = ir / regions if ir else None
        return dict(scale=self.args.scale, home=self.home, service_ms=self.table["service_ms"],
                    accounts=self.args.accounts, regions=regions, sequential_estimate=sequential,
                    machine=bench_py.machine(), results=results, targets=self.targets)

    def close(self):
        for p in (self.front_proc, self.moto_proc):
            p.kill()
            p.wait()


def markdown(doc):
    f = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"
    lines = [
        f"Organization of {doc['accounts']} accounts, {doc['regions']} regions from {doc['home']}, "
        f"scale {doc['scale']} (service {doc['service_ms']} ms + round trip per request); {doc['machine']}",
        "",
        "| case | runs | median s | min s | max s | CPU s | peak RSS MB | calls in chain | lower bound s | / bound |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["results"]:
        lines.append(
            f"| {r['case']} | {r['runs']} | {f(r['wall_median'])} | {f(r['wall_min'])} | {f(r['wall_max'])} "
            f"| {f(r['cpu_median'])} | {f(r['rss_peak_mb'], 1)} | {r['calls_per_region']} | {f(r['bound'])} "
            f"| {f(r['ratio_to_bound'], 2)} |")
    ir = doc["results"][0].get("instructions_per_region")
    if ir:
        lines.append("")
        lines.append(f"org enable from scratch: {ir / 1e6:.2f} M instructions per region (callgrind)")
    lines.append("")
    lines.append(f"the same calls region after region would wait at least {doc['sequential_estimate']:.3f} s")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gdctl", default=str(ROOT / "target" / "release" / "gdctl"))
    p.add_argument("--table", default=str(HERE / "rtt-ap-northeast-2.json"))
    p.add_argument("--scale", type=float, default=1.0, help="0 = no delay")
    p.add_argument("--accounts", type=int, default=50, help="accounts in the organization, management included")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--callgrind", action="store_true", help="also count org enable's instructions (slow)")
    p.add_argument("--json", default=str(ROOT / "target" / "bench" / "org.json"))
    args = p.parse_args()
    if args.repeat < 1 or args.scale < 0 or args.accounts < 2:
        sys.exit("--repeat must be >= 1, --scale >= 0 and --accounts >= 2")
    bench_py.finish(Bench(args), args, markdown)
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
