//! Shell completion and the man page, as a user installs and uses them.

use crate::common::*;

fn bash(script: &str) -> String {
    let out =
        std::process::Command::new("bash").args(["--norc", "--noprofile", "-c", script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn the_bash_script_loads_and_completes_commands_features_and_frequencies() {
    let w = World::new();
    let out = w.bare_gdctl(&["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = w.home.path().join("gdctl.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |words: &str, cword: usize| {
        bash(&format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
             COMP_POINT=${{#COMP_LINE}}; _gdctl gdctl \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\"",
            script.display()
        ))
    };
    assert_eq!(complete("gdctl en", 1).trim(), "enable");
    assert_eq!(complete("gdctl enable --features s3", 3).trim(), "s3-data-events");
    assert_eq!(complete("gdctl enable --frequency ''", 3).trim(), "fifteen-minutes one-hour six-hours");
    assert_eq!(
        complete("gdctl status --check --features runtime-monitoring --runtime-agents ecs", 6).trim(),
        "ecs-fargate"
    );

    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = w.bare_gdctl(&["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout_of(&out).contains("gdctl"), "{shell}");
    }
    let out = w.bare_gdctl(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
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
        "Exit codes",
        "130, 143",
        "AWS_PROFILE",
        "AWS_MAX_ATTEMPTS",
    ] {
        assert!(text.contains(needle), "{needle} missing from the man page");
    }
}
