//! Shell completion and the man page, as a user installs and uses them.

use crate::common::*;

/// bash with the binary under test first on PATH: the completion script
/// runs `gdctl` at TAB time, as it does once installed.
fn bash(script: &str) -> String {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_gdctl")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .env("PATH", path)
        .env_remove("GDCTL_COMPLETE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn the_bash_script_completes_commands_flags_and_every_item_of_a_comma_list() {
    let w = World::new();
    let out = w.bare_gdctl(&["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = w.home.path().join("gdctl.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // What bash's programmable completion sets before it calls the function
    // `complete -F` names, for the line typed so far.
    let complete = |words: &str, cword: usize| {
        bash(&format!(
            "source {}; f=$(complete -p gdctl); f=${{f##*-F }}; f=${{f%% *}}; \
             COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
             COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9; \
             $f gdctl \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\"",
            script.display()
        ))
        .trim()
        .to_string()
    };
    assert_eq!(complete("gdctl en", 1), "enable");
    assert_eq!(complete("gdctl enable --dry", 2), "--dry-run");
    assert_eq!(complete("gdctl enable --features s3", 3), "s3-data-events");
    // The item after a comma, the ones before it kept.
    assert_eq!(
        complete("gdctl enable --features s3-data-events,eb", 3),
        "s3-data-events,ebs-malware-protection"
    );
    assert_eq!(
        complete("gdctl status --regions us-east-1,eu-central-", 3),
        "us-east-1,eu-central-1 us-east-1,eu-central-2"
    );
    assert_eq!(
        complete("gdctl --exclude-regions ap-northeast-1,ap-northeast-3,sa", 2),
        "ap-northeast-1,ap-northeast-3,sa-east-1"
    );
    assert_eq!(complete("gdctl enable --frequency ''", 3), "fifteen-minutes one-hour six-hours");
    assert_eq!(
        complete("gdctl status --check --features runtime-monitoring --runtime-agents ec2,ecs", 6),
        "ec2,ecs-fargate"
    );
    assert_eq!(complete("gdctl findings --check --fail-on cr", 4), "critical");
    assert_eq!(complete("gdctl --output j", 2), "json");
    let examples = manifest_dir().join("examples").join("gu");
    assert_eq!(
        complete(&format!("gdctl apply {}", examples.display()), 2),
        manifest_dir().join("examples").join("guardduty.toml").display().to_string()
    );

    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = w.bare_gdctl(&["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout_of(&out).contains("GDCTL_COMPLETE"), "{shell}");
    }
    let out = w.bare_gdctl(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    // A completion variable left set never turns a run into a no-op: only
    // the scripts' own calls (`gdctl -- WORDS`) are answered.
    for value in ["bash", "1"] {
        let out = w
            .gdctl(&["status", "--regions", "eu-west-1", "--output", "json"])
            .env("GDCTL_COMPLETE", value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{value}: {}", stderr_of(&out));
        assert!(stdout_of(&out).contains("\"regions\""), "{value}: {}", stdout_of(&out));
    }
}

#[test]
fn the_man_page_renders_without_warnings_and_names_everything() {
    let w = World::new();
    let rendered = rendered_man_page(&w);
    // Filled and justified text: spaces between words vary.
    let text = rendered.replace(['\u{2010}', '\u{2212}'], "-");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "GDCTL ENABLE",
        "GDCTL DISABLE",
        "GDCTL STATUS",
        "GDCTL COMPLETIONS",
        "GDCTL MAN",
        "GDCTL ORG ENABLE",
        "GDCTL ORG STATUS",
        "GDCTL ORG DISABLE",
        "--admin-account",
        "--auto-enable",
        "--frequency",
        "--features",
        "--only-tagged",
        "--check",
        "--accounts",
        "--org-unit",
        "--expect-account",
        "EXIT STATUS",
        "EXAMPLES",
        "130, 143",
        "AWS_PROFILE",
        "AWS_MAX_ATTEMPTS",
    ] {
        assert!(text.contains(needle), "{needle} missing from the man page");
    }
}

#[test]
fn man_dir_writes_a_page_for_every_page_gdctl_1_names_each_rendering_cleanly() {
    let w = World::new();
    let dir = w.home.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let out = w.bare_gdctl(&["man", "--dir", dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let render = |page: &std::path::Path| {
        let r = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(page)
            .output()
            .unwrap();
        assert_eq!(stderr_of(&r), "", "groff warnings in {}", page.display());
        stdout_of(&r)
    };
    let main = render(&dir.join("gdctl.1"));
    let mut named: Vec<String> = main
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| w.strip_suffix("(1)"))
        .filter(|w| w.starts_with("gdctl-"))
        .map(str::to_string)
        .collect();
    named.sort();
    named.dedup();
    assert!(named.len() >= 6, "{named:?}");
    assert!(!main.contains("EXTRA"), "{main}");
    for name in &named {
        let text = render(&dir.join(format!("{name}.1")));
        assert!(text.contains("SEE ALSO") && text.contains("gdctl(1)"), "{name}: {text}");
        // Each page whole on its own: what it exits with, what it reads (the
        // pages of text about gdctl read nothing of AWS's).
        let text_only = ["gdctl-iam-policy", "gdctl-completions", "gdctl-man"].contains(&name.as_str());
        for section in ["EXIT STATUS", "ENVIRONMENT", "AWS_PROFILE", "FILES", "~/.aws/config"] {
            assert_eq!(text.contains(section), !text_only || section == "EXIT STATUS", "{name}: {section}");
        }
        assert!(text.contains("EXAMPLES"), "{name} has no EXAMPLES");
        // Its synopsis names the command as typed.
        let typed = name.replacen("gdctl-", "gdctl ", 1).replacen("org-", "org ", 1).replacen(
            "findings-",
            "findings ",
            1,
        );
        assert!(
            text.split_whitespace().collect::<Vec<_>>().join(" ").contains(&typed),
            "{name}: no `{typed}`"
        );
    }
    // gdctl(1) points to every page.
    let see_also = main.split("SEE ALSO").nth(1).unwrap_or_default().to_string();
    for name in &named {
        assert!(see_also.contains(&format!("{name}(1)")), "{name} not in gdctl(1)'s SEE ALSO");
    }
    // The org subcommands' own pages, with their own flags.
    let enable = render(&dir.join("gdctl-org-enable.1")).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(enable.contains("--admin-account") && enable.contains("--auto-enable"), "{enable}");
    let listed = stdout_of(&out);
    assert!(listed.lines().any(|l| l.ends_with("gdctl-usage.1")), "{listed}");
    // A directory that is not there yet is made, as `install -d` would...
    let fresh = w.home.path().join("share/man/man1");
    let out = w.bare_gdctl(&["man", "--dir", fresh.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(fresh.join("gdctl-enable.1").is_file());
    // ...one that cannot be is an error naming it, exit 1.
    let under_a_file = fresh.join("gdctl.1").join("man1");
    let out = w.bare_gdctl(&["man", "--dir", under_a_file.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains(under_a_file.to_str().unwrap()), "{}", stderr_of(&out));
}

#[test]
fn the_release_archives_man_pages_and_completions_are_written_by_the_binary() {
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(manifest_dir().join("scripts/release-docs.sh"))
        .arg(out.path())
        .env("GDCTL", env!("CARGO_BIN_EXE_gdctl"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr_of(&run));
    for page in ["gdctl.1", "gdctl-enable.1", "gdctl-findings.1", "gdctl-apply.1", "gdctl-org-enable.1"] {
        let text = std::fs::read_to_string(out.path().join("man").join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    for (file, says) in [
        ("gdctl.bash", "GDCTL_COMPLETE=\"bash\""),
        ("_gdctl", "#compdef gdctl"),
        ("gdctl.fish", "GDCTL_COMPLETE=fish gdctl"),
    ] {
        let text = std::fs::read_to_string(out.path().join("completions").join(file)).unwrap();
        assert!(text.contains(says), "{file}");
    }
}

/// Every `gdctl COMMAND ... --flag` the README and docs/ show: the command
/// exists and takes the flag (its own, a global one, or its subcommand's).
#[test]
fn every_command_and_flag_the_docs_show_exists() {
    let w = World::new();
    let help = |words: &[&str]| -> Option<String> {
        let mut args: Vec<&str> = words.to_vec();
        args.push("--help");
        let out = w.bare_gdctl(&args).output().unwrap();
        out.status.success().then(|| stdout_of(&out))
    };
    let mut docs = vec![manifest_dir().join("README.md")];
    if let Ok(dir) = std::fs::read_dir(manifest_dir().join("docs")) {
        docs.extend(
            dir.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")),
        );
    }
    let mut checked = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        // Commands as the docs show them: code blocks' lines and inline code, not prose.
        let mut snippets: Vec<String> = Vec::new();
        let mut fenced = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if fenced {
                snippets.push(line.to_string());
            } else {
                snippets.extend(line.split('`').skip(1).step_by(2).map(str::to_string));
            }
        }
        for line in &snippets {
            let Some(at) = line.find("gdctl ") else { continue };
            // Not `cargo install gdctl`, `man gdctl-enable`, a path, ...
            if at > 0 && !line[..at].ends_with(' ') && !line[..at].ends_with('$') {
                continue;
            }
            let words: Vec<&str> = line[at + 6..]
                .split(|c: char| c.is_whitespace() || "`|,;)".contains(c))
                .filter(|w| !w.is_empty())
                .collect();
            // The command: the leading words that are subcommands.
            let mut command: Vec<&str> = Vec::new();
            for word in &words {
                if word.starts_with('-') || !word.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    break;
                }
                let mut next = command.clone();
                next.push(word);
                if help(&next).is_none() {
                    break;
                }
                command = next;
            }
            if command.is_empty() {
                continue;
            }
            let text = help(&command).unwrap();
            for flag in words.iter().filter(|w| w.starts_with("--") && w.len() > 2) {
                let flag = flag.split(['=', '[', ']', '.']).next().unwrap();
                if flag.len() <= 2 {
                    continue;
                }
                assert!(
                    text.contains(&format!("{flag} "))
                        || text.contains(&format!("{flag}\n"))
                        || text.contains(&format!("{flag}="))
                        || text.contains(&format!("{flag} <")),
                    "{}: `gdctl {}` has no {flag} (line: {line})",
                    doc.display(),
                    command.join(" ")
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} flags found: is the parsing right?");
}

/// Every relative link in the README and docs/ leads to a file or a heading that exists.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = manifest_dir();
    let mut docs = vec![root.join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root.join("docs")) {
        docs.extend(
            dir.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")),
        );
    }
    let anchor = |heading: &str| -> String {
        heading
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    };
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        let anchors: Vec<String> = text.lines().filter(|l| l.starts_with('#')).map(anchor).collect();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = &after[..end];
            rest = &after[end..];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            match target.split_once('#') {
                Some(("", a)) => {
                    assert!(anchors.iter().any(|x| x == a), "{}: no heading for #{a}", doc.display())
                }
                _ if !target.is_empty() => {
                    let file = target.split('#').next().unwrap();
                    let path = doc.parent().unwrap().join(file);
                    assert!(path.exists(), "{}: link to {file}, which does not exist", doc.display());
                }
                _ => {}
            }
        }
    }
}
