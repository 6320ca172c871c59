//! Many accounts in one fan-out: roles assumed in each (moto's AssumeRole hands
//! out credentials of the account in the role ARN), each account's state read
//! with that account's own credentials.

use crate::common::*;

const TWO: &str = "eu-west-1,eu-west-2";

fn ids(accounts: &[&Account]) -> String {
    accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(",")
}

fn by_account(doc: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

#[test]
fn enable_status_disable_across_accounts_the_callers_own_without_the_role() {
    let w = World::new();
    let (a, b) = (Account::fresh(), Account::fresh());
    // Were gdctl to assume a role in the caller's own account, it would be refused.
    let own_role = format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", w.account.id);
    let front = front_with(&["--deny-role", &own_role]);
    let w = w.via_endpoint(&front.url);
    let list = ids(&[&a, &b, &w.account]);

    let (code, doc) = w.json(&["enable", "--accounts", &list, "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["targets"], 6);
    assert!(doc["regions"].as_array().unwrap().iter().all(|r| r["outcome"] == "created"), "{doc:#}");
    for account in [&a, &b, &w.account] {
        for region in ["eu-west-1", "eu-west-2"] {
            assert_eq!(account.detector_ids(region).len(), 1, "{} {region}", account.id);
        }
        assert!(account.detector_ids("us-east-1").is_empty(), "{}: only the regions asked", account.id);
    }
    let accounts = by_account(&doc);
    assert_eq!(
        accounts[&a.id]["role_arn"],
        format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", a.id)
    );
    assert!(accounts[&w.account.id].get("role_arn").is_none(), "the caller's own credentials");
    assert_eq!(accounts[&b.id]["outcomes"]["created"], 2);

    let out = w.gdctl(&["status", "--check", "--accounts", &list, "--regions", TWO]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    // Nothing needs attention: no region lines, one line per account and a total.
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains(&format!("account {}: 2 target regions (2 enabled), 0 failed", a.id)), "{text}");
    assert!(
        text.ends_with(
            "status: 3 accounts, 6 target account-regions (6 enabled), 0 failed, 0 skipped, 0 out of line\n"
        ),
        "{text}"
    );
    // -v lists every region.
    let out = w.gdctl(&["status", "--accounts", &list, "--regions", TWO, "-v"]).output().unwrap();
    assert_eq!(stdout_of(&out).lines().filter(|l| l.contains("enabled")).count(), 6 + 3 + 1);

    let (code, doc) = w.json(&["disable", "--accounts", &list, "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    for account in [&a, &b, &w.account] {
        assert!(account.detector_ids("eu-west-1").is_empty() && account.detector_ids("eu-west-2").is_empty());
    }
}

#[test]
fn an_account_whose_role_is_refused_fails_alone() {
    let w = World::new();
    let (a, b) = (Account::fresh(), Account::fresh());
    let denied = format!("arn:aws:iam::{}:role/security/gdctl", a.id);
    let front = front_with(&["--deny-role", &denied]);
    let w = w.via_endpoint(&front.url);
    let args = ["enable", "--accounts", &ids(&[&a, &b]), "--regions", TWO, "--role-name", "security/gdctl"];

    let (code, doc) = w.json(&args);
    assert_eq!(code, 1, "{doc:#}");
    let accounts = by_account(&doc);
    let failed = &accounts[&a.id];
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["role_arn"], denied.as_str());
    assert_eq!(failed["error"]["code"], "AccessDenied");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("AssumeRole failed: User: ") && message.contains(&denied), "{message}");
    let hint = failed["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains(&denied) && hint.contains("trust policy") && hint.contains("--external-id"),
        "{hint}"
    );
    assert_eq!(accounts[&b.id]["outcome"], "ok");
    assert_eq!(doc["summary"]["accounts_failed"], 1);
    assert!(a.detector_ids("eu-west-1").is_empty(), "nothing attempted in the failed account");

    // At a terminal, a deletion's question names the account it could not open.
    let out = w.gdctl_at_terminal(
        &["disable", "--accounts", &ids(&[&a, &b]), "--regions", TWO, "--role-name", "security/gdctl"],
        "n\n",
    );
    let shown = stdout_of(&out);
    assert!(
        shown.contains("Not read, so left alone") && shown.contains(&format!("{}  (the account)", a.id)),
        "{shown}"
    );
    assert_eq!(b.detector_ids("eu-west-1").len(), 1);

    // Text: the failure once, as it happens, and in the account's summary line.
    let out = w.gdctl(&args).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(text.lines().filter(|l| l.starts_with(&a.id)).count(), 1, "{text}");
    assert!(
        text.contains(&format!("account {}: failed, nothing was done in it: AccessDenied", a.id)),
        "{text}"
    );
    assert!(text.lines().last().unwrap().starts_with("enable: 2 accounts (1 failed)"), "{text}");
}

#[test]
fn accounts_come_from_a_file_or_stdin_less_the_excluded() {
    let w = World::new();
    let (a, b, c) = (Account::fresh(), Account::fresh(), Account::fresh());
    let file = w.home.path().join("accounts.txt");
    std::fs::write(&file, format!("# prod\n{}\n\n{}  # payments\n{}\n", a.id, b.id, c.id)).unwrap();
    let file = file.to_str().unwrap();
    let (code, doc) =
        w.json(&["enable", "--accounts-file", file, "--exclude-accounts", &c.id, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_account(&doc).keys().cloned().collect::<Vec<_>>(), [a.id.clone(), b.id.clone()]);
    assert!(c.detector_ids("eu-west-1").is_empty());

    let (code, doc) = json_of({
        let mut cmd = w.gdctl(&["status", "--accounts-file", "-", "--regions", "eu-west-1"]);
        cmd.write_stdin(format!("{}\n", c.id));
        cmd
    });
    assert_eq!(code, 0);
    assert_eq!(by_account(&doc).keys().collect::<Vec<_>>(), [&c.id]);
}

#[test]
fn bad_account_input_is_exit_2_and_changes_nothing() {
    let w = World::new();
    let a = Account::fresh();
    let file = w.home.path().join("bad.txt");
    std::fs::write(&file, format!("{}\n12345\n", a.id)).unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["--accounts", "12345"], "`12345` is not a 12-digit AWS account id".into()),
        (
            vec!["--accounts-file", file.to_str().unwrap()],
            format!("{}, line 2: `12345` is not", file.display()),
        ),
        (vec!["--accounts-file", "/nonexistent"], "--accounts-file /nonexistent: No such file".into()),
        (vec!["--accounts", &a.id, "--exclude-accounts", &a.id], "no account left to work on".into()),
        (vec!["--org", "--org-unit", "r-root"], "is not an organizational unit id".into()),
    ];
    for (flags, expected) in cases {
        let args = [&["enable", "--regions", "eu-west-1"][..], &flags].concat();
        let out = w.gdctl(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains(&expected), "{flags:?}: {}", stderr_of(&out));
    }
    assert!(a.detector_ids("eu-west-1").is_empty());
}

#[test]
fn org_takes_every_active_account_and_org_unit_a_subtree() {
    let w = World::new();
    let org = organizations(&w.account);
    let (ou, top, inner, empty) = block_on(async {
        org.create_organization().send().await.unwrap();
        let root = org.list_roots().send().await.unwrap().roots.unwrap()[0].id.clone().unwrap();
        let create = |name: &str| {
            let req = org.create_account().account_name(name).email(format!("{name}@example.com"));
            async move {
                let status = req.send().await.unwrap().create_account_status.unwrap();
                status.account_id.unwrap()
            }
        };
        let top = create("top").await;
        let inner = create("inner").await;
        let ou = org.create_organizational_unit().parent_id(&root).name("security").send().await.unwrap();
        let ou = ou.organizational_unit.unwrap().id.unwrap();
        let nested = org.create_organizational_unit().parent_id(&ou).name("deep").send().await.unwrap();
        let nested = nested.organizational_unit.unwrap().id.unwrap();
        org.move_account()
            .account_id(&inner)
            .source_parent_id(&root)
            .destination_parent_id(&nested)
            .send()
            .await
            .unwrap();
        let empty = org.create_organizational_unit().parent_id(&root).name("empty").send().await.unwrap();
        (ou, top, inner, empty.organizational_unit.unwrap().id.unwrap())
    });
    let (code, doc) = w.json(&["enable", "--org", "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let accounts: Vec<String> = by_account(&doc).keys().cloned().collect();
    for id in [&w.account.id, &top, &inner] {
        assert!(accounts.contains(id), "{id} in {accounts:?}");
        assert_eq!(Account::of(id).detector_ids("eu-west-1").len(), 1, "{id}");
    }

    // The OU's subtree only: the account two levels down, and no other.
    let (code, doc) = w.json(&["status", "--org", "--org-unit", &ou, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_account(&doc).keys().collect::<Vec<_>>(), [&inner]);
    // An OU with no account is named.
    let out = w.gdctl(&["status", "--org", "--org-unit", &empty, "--regions", "eu-west-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_of(&out), format!("gdctl: error: --org-unit {empty} named no account to work on\n"));

    // Outside an organization (moto lists no account there, where AWS answers
    // AWSOrganizationsNotInUseException: both are exit 2, nothing changed).
    let loner = World::new();
    let out = loner.gdctl(&["enable", "--org", "--regions", "eu-west-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_of(&out), "gdctl: error: --org named no account to work on\n");
    assert!(loner.detectors("eu-west-1").is_empty());
}

#[test]
fn role_assumptions_are_paced_below_the_sts_rate() {
    let w = World::new();
    let accounts: Vec<Account> = (0..30).map(|_| Account::fresh()).collect();
    // STS here allows 20 AssumeRole calls a second; gdctl is told to start 10.
    let front = front_with(&["--sts-rate", "20"]);
    let w = w.via_endpoint(&front.url);
    let list = ids(&accounts.iter().collect::<Vec<_>>());
    let (code, doc) =
        w.json(&["status", "--accounts", &list, "--regions", "eu-west-1", "--assume-role-rate", "10"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["accounts"], 30);
    let stats: serde_json::Value = get_json(&format!("{}/__front/stats", front.url));
    assert_eq!(stats["throttled"], 0, "paced: STS never had to throttle");
    // A ceiling over any second, not only on average (a burst of half the
    // rate on top of it made 15 in the first second).
    let peak = stats["assume_role_peak"].as_u64().unwrap();
    assert!((1..=10).contains(&peak), "{peak} AssumeRole calls within 0.75 s");
}

/// Each account's role is assumed once per run, however many accounts: the
/// SDK's identity cache keeps 64 by default and assumed the others again.
#[test]
fn past_64_accounts_each_role_is_still_assumed_once() {
    let w = World::new();
    let accounts: Vec<Account> = (0..70).map(|_| Account::fresh()).collect();
    let front = front_with(&[]);
    let w = w.via_endpoint(&front.url);
    let list = ids(&accounts.iter().collect::<Vec<_>>());
    let (code, doc) = w.json(&["status", "--accounts", &list, "--regions", "eu-west-1,us-west-2"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["accounts"], 70);
    let stats: serde_json::Value = get_json(&format!("{}/__front/stats", front.url));
    assert_eq!(stats["assume_role_calls"], 70, "{stats}");
}

#[test]
fn at_a_terminal_progress_shows_on_stderr_and_disable_asks_once_for_all_accounts() {
    let w = World::new();
    let a = Account::fresh();
    let list = ids(&[&a, &w.account]);
    w.gdctl(&["enable", "--accounts", &list, "--regions", TWO]).assert().code(0);

    // Without a terminal: no progress line, stderr stays empty.
    let out = w.gdctl(&["status", "--accounts", &list, "--regions", TWO]).output().unwrap();
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));

    // At a terminal the deletion is confirmed once, for every account.
    let out = w.gdctl_at_terminal(&["disable", "--accounts", &list, "--regions", TWO], "n\n");
    assert_eq!(out.status.code(), Some(1));
    let shown = stdout_of(&out);
    let (first, second) = if a.id < w.account.id { (&a.id, &w.account.id) } else { (&w.account.id, &a.id) };
    assert!(shown.contains(&format!("Delete 4 detectors in 2 accounts ({first}, {second})?")), "{shown}");
    assert_eq!(shown.matches("[y/N]").count(), 1, "{shown}");
    assert_eq!(a.detector_ids("eu-west-1").len(), 1, "a no changes nothing");

    let out = w.gdctl_at_terminal(&["disable", "--accounts", &list, "--regions", TWO], "y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(stdout_of(&out).contains("account-regions"), "the progress line: {}", stdout_of(&out));
    assert!(a.detector_ids("eu-west-1").is_empty() && w.account.detector_ids("eu-west-2").is_empty());
}

#[test]
fn every_flag_works_across_accounts_unchanged() {
    let w = World::new();
    let (a, b) = (Account::fresh(), Account::fresh());
    let list = ids(&[&a, &b]);
    // --dry-run: the plan for both accounts, nothing changed in either.
    let (code, doc) =
        w.json(&["enable", "--accounts", &list, "--regions", TWO, "--dry-run", "--tag", "team=sec"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["summary"]["outcomes"]["created"], 4);
    assert!(a.detector_ids("eu-west-1").is_empty() && b.detector_ids("eu-west-2").is_empty());

    // --frequency and --exclude-regions, then --check --frequency over both accounts.
    let args = [
        "enable",
        "--accounts",
        &list,
        "--regions",
        TWO,
        "--exclude-regions",
        "eu-west-2",
        "--frequency",
        "one-hour",
    ];
    w.gdctl(&args).assert().code(0);
    assert_eq!((a.detector_ids("eu-west-1").len(), a.detector_ids("eu-west-2").len()), (1, 0));
    let check =
        ["status", "--check", "--frequency", "one-hour", "--accounts", &list, "--regions", "eu-west-1"];
    w.gdctl(&check).assert().code(0);
    let check =
        ["status", "--check", "--frequency", "six-hours", "--accounts", &list, "--regions", "eu-west-1"];
    let (code, doc) = w.json(&check);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["summary"]["out_of_line"], 2);
    assert!(by_account(&doc).values().all(|acct| acct["out_of_line"] == 1), "{doc:#}");

    // --suspend across accounts.
    w.gdctl(&["disable", "--suspend", "--accounts", &list, "--regions", "eu-west-1"]).assert().code(0);
    let (_, doc) = w.json(&["status", "--accounts", &list, "--regions", "eu-west-1"]);
    assert!(doc["regions"].as_array().unwrap().iter().all(|r| r["status"] == "SUSPENDED"), "{doc:#}");
}
