//! The bench must keep running: one pass at scale 0 (no delays), its JSON parsed.
//! Timings are the bench's business; nothing here asserts one.

use crate::common::*;

#[test]
fn bench_runs_at_scale_zero_and_writes_json() {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("bench.json");
    let out = std::process::Command::new(python())
        .arg(manifest_dir().join("bench/bench.py"))
        .args(["--scale", "0", "--repeat", "1", "--gdctl", env!("CARGO_BIN_EXE_gdctl")])
        .arg("--json")
        .arg(&json)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout_of(&out), stderr_of(&out));
    assert!(stdout_of(&out).contains("| case | runs | median s"), "{}", stdout_of(&out));

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["scale"], 0.0);
    let cases: Vec<&str> =
        doc["results"].as_array().unwrap().iter().map(|r| r["case"].as_str().unwrap()).collect();
    assert_eq!(cases.len(), 12, "{cases:?}");
    assert!(cases.contains(&"boto3 loop") && cases.contains(&"aws CLI loop"));
    assert!(cases.contains(&"aws CLI findings loop"), "{cases:?}");
    let row = |case: &str| doc["results"].as_array().unwrap().iter().find(|r| r["case"] == case).unwrap();
    // Each case's chain of sequential calls per region, as its lower bound counts it.
    let chain = |case: &str| row(case)["calls_per_region"].as_u64();
    assert_eq!(chain("gdctl findings"), Some(2));
    assert_eq!(chain("gdctl findings --list --limit 100"), Some(4));
    assert_eq!(chain("gdctl apply examples/guardduty.toml"), Some(6));
    assert_eq!(chain("gdctl apply (again, unchanged)"), Some(4));
    assert_eq!(chain("aws CLI findings loop"), None, "a peer has no bound");
    // The findings cases, and the peer doing their work, on the stand-in; the rest on moto.
    for case in ["gdctl findings", "gdctl findings --list --limit 100", "aws CLI findings loop"] {
        assert_eq!(row(case)["server"], "stand-in", "{case}");
    }
    assert_eq!(row("gdctl apply examples/guardduty.toml")["server"], "moto");
    // Every GuardDuty call of an apply run, as the derived peer counts them.
    assert_eq!(row("gdctl apply examples/guardduty.toml")["guardduty_calls_per_region"], 12.0);
    assert_eq!(row("gdctl apply (again, unchanged)")["guardduty_calls_per_region"], 12.0);
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(r["runs"], 1);
        assert!(r["wall_median"].as_f64().unwrap() > 0.0);
        assert!(r["rss_peak_mb"].as_f64().unwrap() > 0.0);
        assert!(r["server_cpu_median"].as_f64().is_some(), "{r}");
        if r["case"].as_str().unwrap().starts_with("gdctl") {
            assert_eq!(r["bound"], 0.0, "no delay, no bound");
            assert!(r["cpu_ms_per_region"].as_f64().is_some());
        } else {
            // Each peer is compared with the gdctl case that does its work.
            let with = r["compared_with"].as_str().unwrap();
            assert!(cases.contains(&with), "{with}");
            assert!(r["ratio_to_gdctl"].as_f64().unwrap() > 0.0);
        }
    }
    // Peers derived from the delay table (nothing run): no delay, no time.
    let derived = doc["derived"].as_array().unwrap();
    assert_eq!(derived.len(), 2, "{derived:?}");
    for r in derived {
        assert!(cases.contains(&r["compared_with"].as_str().unwrap()), "{r}");
        assert_eq!(r["calls_each_region"], 12);
        assert_eq!(r["seconds"], 0.0);
    }
    assert_eq!(doc["regions"], doc["targets"].as_array().unwrap().len());
}

#[test]
fn the_org_bench_runs_at_scale_zero_and_writes_json() {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("org.json");
    let out = std::process::Command::new(python())
        .arg(manifest_dir().join("bench/org.py"))
        .args(["--scale", "0", "--repeat", "1", "--accounts", "3", "--gdctl", env!("CARGO_BIN_EXE_gdctl")])
        .arg("--json")
        .arg(&json)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout_of(&out), stderr_of(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let chains: Vec<u64> =
        doc["results"].as_array().unwrap().iter().map(|r| r["calls_per_region"].as_u64().unwrap()).collect();
    assert_eq!(chains, [8, 4, 3]);
    assert_eq!(doc["accounts"], 3);
}

#[test]
fn the_accounts_bench_runs_at_scale_zero_and_writes_json() {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("accounts.json");
    let out = std::process::Command::new(python())
        .arg(manifest_dir().join("bench/accounts.py"))
        .args(["--scale", "0", "--repeat", "1", "--accounts", "2", "--gdctl", env!("CARGO_BIN_EXE_gdctl")])
        .arg("--json")
        .arg(&json)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout_of(&out), stderr_of(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["accounts"], 2);
    assert!(results[0]["rss_peak_mb"].as_f64().unwrap() > 0.0);
}
